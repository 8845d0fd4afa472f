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
 * Stores a person's message and the queued turn it begins, in one statement: a turn exists for
 * every stored message, so the orchestrator's sweep can start it even if the enqueue that follows
 * the commit is lost. The message takes the group's next seq (`take_group_seqs`, whose row lock
 * orders the group's writers: one statement holds it for one round trip, which a transaction of
 * insert, turn and commit would triple on the path of every post). Returns the message, whose
 * `turn_id` is the new turn; throws `NotFoundError` when the group is gone, and a unique violation
 * (23505) when the idempotency key was used. The caller publishes the message and adds the
 * `advance` job after this returns.
 */
export async function storeUserMessage(pool: pg.Pool, post: UserPost): Promise<Message> {
  const { rows } = await pool.query<MessageRow>({
    name: "synapse_store_user_message",
    text: `with s as (select take_group_seqs($1, 1) as seq),
  m as (
    insert into messages (id, group_id, seq, turn_id, sender_type, sender_alias, sender_user_id, content, idempotency_key)
    select $2, $1, s.seq, $3, 'user', $4, $5, $6, $7 from s where s.seq is not null
    returning ${MESSAGE_COLUMNS}
  ),
  t as (
    insert into turns (id, group_id, message_id, message_seq, status, trace)
    select m.turn_id, m.group_id, m.id, m.seq, 'queued', $8::jsonb from m
  )
  select * from m`,
    values: [
      post.group_id,
      randomUUID(),
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
