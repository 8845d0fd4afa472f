import { randomUUID } from "node:crypto";
import type pg from "pg";
import { inTransaction } from "./db/pool.ts";
import { insertMessage, type Message } from "./messages.ts";

/** A person's message to a group. */
export interface UserPost {
  group_id: string;
  user_id: string;
  /** shown as `sender_alias` (the person's email) */
  sender_alias: string;
  content: string;
  idempotency_key?: string | null;
}

/**
 * Stores a person's message and the turn it begins (status `queued`), in one transaction: a turn
 * exists for every stored message, so the orchestrator's sweep can start it even if the enqueue
 * that follows the commit is lost. Returns the message, whose `turn_id` is the new turn.
 * The caller publishes the message and adds the `advance` job after this returns.
 */
export async function storeUserMessage(pool: pg.Pool, post: UserPost): Promise<Message> {
  const turnId = randomUUID();
  return inTransaction(pool, async (client) => {
    const { message } = await insertMessage(client, {
      id: randomUUID(),
      group_id: post.group_id,
      turn_id: turnId,
      sender_type: "user",
      sender_alias: post.sender_alias,
      sender_user_id: post.user_id,
      content: post.content,
      idempotency_key: post.idempotency_key ?? null,
    });
    await client.query(
      "insert into turns (id, group_id, message_id, message_seq, status) values ($1, $2, $3, $4, 'queued')",
      [turnId, post.group_id, message.id, message.seq],
    );
    return message;
  });
}
