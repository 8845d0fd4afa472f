import type pg from "pg";

export type SenderType = "user" | "agent" | "tool" | "system";

/** A tool call as stored and as sent to clients. */
export interface ToolCall {
  id: string;
  name: string;
  args: Record<string, unknown>;
}

/** The Message of SPEC §3, as the API and the WebSocket show it. */
export interface Message {
  id: string;
  group_id: string;
  seq: number;
  turn_id: string | null;
  sender_type: SenderType;
  sender_alias: string;
  sender_user_id: string | null;
  content: string;
  tool_calls: ToolCall[] | null;
  tool_call_id: string | null;
  created_at: string;
  meta: Record<string, unknown> | null;
}

/** What a writer supplies; `seq` and `created_at` are assigned by the insert. */
export interface NewMessage {
  /** Chosen before the write: a retried write with the same id stores nothing new. */
  id: string;
  group_id: string;
  turn_id: string | null;
  sender_type: SenderType;
  sender_alias: string;
  sender_user_id?: string | null;
  content: string;
  tool_calls?: ToolCall[] | null;
  tool_call_id?: string | null;
  meta?: Record<string, unknown> | null;
  idempotency_key?: string | null;
}

/** A message as node-postgres returns its row (`MESSAGE_COLUMNS`). */
export type MessageRow = Omit<Message, "created_at"> & { created_at: Date };

export const MESSAGE_COLUMNS =
  "id, group_id, seq, turn_id, sender_type, sender_alias, sender_user_id, content, tool_calls, tool_call_id, meta, created_at";

export function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    group_id: row.group_id,
    seq: row.seq,
    turn_id: row.turn_id,
    sender_type: row.sender_type,
    sender_alias: row.sender_alias,
    sender_user_id: row.sender_user_id,
    content: row.content,
    tool_calls: row.tool_calls,
    tool_call_id: row.tool_call_id,
    created_at: row.created_at.toISOString(),
    meta: row.meta,
  };
}

/**
 * Stores a message with the group's next `seq`, in one statement.
 *
 * The `update groups` takes the group row lock, so seqs are handed out in commit order and without
 * gaps (a rolled-back insert rolls its bump back). A message whose id exists already is not stored
 * again: the existing row is returned with `created: false`.
 */
export async function insertMessage(
  db: pg.Pool | pg.PoolClient,
  m: NewMessage,
): Promise<{ message: Message; created: boolean }> {
  const { rows } = await db.query<MessageRow>(
    `with s as (
       update groups set last_seq = last_seq + 1
        where id = $2 and not exists (select 1 from messages where id = $1)
        returning last_seq)
     insert into messages (id, group_id, seq, turn_id, sender_type, sender_alias, sender_user_id,
                           content, tool_calls, tool_call_id, meta, idempotency_key)
     select $1, $2, s.last_seq, $3, $4, $5, $6, $7, $8, $9, $10, $11 from s
     returning ${MESSAGE_COLUMNS}`,
    [
      m.id,
      m.group_id,
      m.turn_id,
      m.sender_type,
      m.sender_alias,
      m.sender_user_id ?? null,
      m.content,
      m.tool_calls ? JSON.stringify(m.tool_calls) : null,
      m.tool_call_id ?? null,
      m.meta ? JSON.stringify(m.meta) : null,
      m.idempotency_key ?? null,
    ],
  );
  if (rows[0]) return { message: toMessage(rows[0]), created: true };
  const existing = await db.query<MessageRow>(`select ${MESSAGE_COLUMNS} from messages where id = $1`, [
    m.id,
  ]);
  if (!existing.rows[0]) throw new Error(`group ${m.group_id} not found for message ${m.id}`);
  return { message: toMessage(existing.rows[0]), created: false };
}
