import { randomUUID } from "node:crypto";
import type pg from "pg";
import { NotFoundError } from "./errors.ts";
import { MESSAGE_COLUMNS, type Message, type MessageRow, toMessage } from "./messages.ts";
import type { TraceCarrier } from "./telemetry/tracing.ts";

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
 * Stores a person's message and the turn it begins (status `queued`) in one statement, so one round
 * trip: a turn exists for every stored message, so the orchestrator's sweep can start it even if the
 * enqueue that follows the commit is lost. As `insertMessage`, it takes the group's next seq (the
 * group row's lock orders writers). Returns the message, whose `turn_id` is the new turn; throws
 * `NotFoundError` when the group is gone, and a unique violation (23505) when the idempotency key
 * was used. The caller publishes the message and adds the `advance` job after this returns.
 */
export async function storeUserMessage(pool: pg.Pool, post: UserPost): Promise<Message> {
  const { rows } = await pool.query<MessageRow>({
    name: "synapse_store_user_message",
    text: `with s as (update groups set last_seq = last_seq + 1 where id = $2 returning last_seq),
      m as (insert into messages (id, group_id, seq, turn_id, sender_type, sender_alias, sender_user_id,
                                  content, idempotency_key)
            select $1, $2, s.last_seq, $3, 'user', $4, $5, $6, $7 from s
            returning ${MESSAGE_COLUMNS}),
      t as (insert into turns (id, group_id, message_id, message_seq, status, trace)
            select $3, $2, m.id, m.seq, 'queued', $8::jsonb from m)
      select * from m`,
    values: [
      randomUUID(),
      post.group_id,
      randomUUID(),
      post.sender_alias,
      post.user_id,
      post.content,
      post.idempotency_key ?? null,
      post.trace ? JSON.stringify(post.trace) : null,
    ],
  });
  if (!rows[0]) throw new NotFoundError("group");
  return toMessage(rows[0]);
}
