import { randomUUID } from "node:crypto";
import type pg from "pg";
import { withTransaction } from "./db/tx.ts";
import { type Message, storeMessages } from "./messages.ts";
import type { TraceCarrier } from "./telemetry/tracing.ts";
import { insertTurn } from "./turns.ts";

/** A person's message to a group. */
export interface UserPost {
  group_id: string;
  user_id: string;
  /** shown as `sender_alias` (the person's email) */
  sender_alias: string;
  content: string;
  idempotency_key?: string | null;
  /** The request's trace context, kept with the turn so that its steps join the request's trace. */
  trace?: TraceCarrier | undefined;
}

/**
 * Stores a person's message and the queued turn it begins, in one transaction: a turn exists for
 * every stored message, so the orchestrator's sweep can start it even if the enqueue that follows
 * the commit is lost. The message takes the group's next seq. Returns the message, whose `turn_id`
 * is the new turn; throws `NotFoundError` when the group is gone, and a unique violation (23505)
 * when the idempotency key was used. The caller publishes the message and adds the `advance` job
 * after this returns.
 */
export async function storeUserMessage(pool: pg.Pool, post: UserPost): Promise<Message> {
  const turnId = randomUUID();
  return withTransaction(pool, async (client) => {
    const { byId } = await storeMessages(client, post.group_id, [
      {
        id: randomUUID(),
        turn_id: turnId,
        sender_type: "user",
        sender_alias: post.sender_alias,
        sender_user_id: post.user_id,
        content: post.content,
        idempotency_key: post.idempotency_key ?? null,
      },
    ]);
    const [message] = [...byId.values()];
    await insertTurn(client, {
      id: turnId,
      group_id: post.group_id,
      message_id: message!.id,
      message_seq: message!.seq,
      trace: post.trace ?? null,
    });
    return message!;
  });
}
