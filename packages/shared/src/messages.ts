import type pg from "pg";
import { withTransaction } from "./db/tx.ts";
import { NotFoundError } from "./errors.ts";

export type SenderType = "user" | "agent" | "tool" | "system";

/** A tool call as stored and as sent to clients. */
export interface ToolCall {
  id: string;
  name: string;
  args: Record<string, unknown>;
}

/** A stored message, as the API and the WebSocket show it. */
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
 * Takes the group's next `count` seqs and returns the last one taken, or undefined when the group
 * does not exist. Seqs are taken only through the SQL function `take_group_seqs` (migration 0005),
 * here or in a statement that inserts messages. Run it in the transaction that stores the messages:
 * the group row's lock it takes orders writers, so seqs are handed out in commit order and without
 * gaps (a rolled-back insert rolls its bump back).
 */
async function takeSeqs(client: pg.PoolClient, groupId: string, count: number): Promise<number | undefined> {
  const { rows } = await client.query<{ last_seq: number | null }>({
    name: "synapse_take_seqs",
    text: "select take_group_seqs($1, $2) as last_seq",
    values: [groupId, count],
  });
  const last = rows[0]?.last_seq;
  return last === undefined || last === null ? undefined : Number(last);
}

/** Messages of one group, stored by {@link storeMessages}. */
export interface StoredMessages {
  /** Every message asked for, by id: the new ones and those that existed. */
  byId: Map<string, Message>;
  /** How many were new. */
  created: number;
}

/**
 * Stores messages of one group, in order, with the group's next seqs. A message whose id exists
 * already is not stored again: the existing row is returned. Run it in a transaction.
 * @throws NotFoundError when the group does not exist and a message is new.
 */
export async function storeMessages(
  client: pg.PoolClient,
  groupId: string,
  messages: Omit<NewMessage, "group_id">[],
): Promise<StoredMessages> {
  const byId = new Map<string, Message>();
  if (messages.length > 0) {
    const { rows } = await client.query<MessageRow>({
      name: "synapse_messages_by_id",
      text: `select ${MESSAGE_COLUMNS} from messages where id = any($1::uuid[])`,
      values: [messages.map((m) => m.id)],
    });
    for (const row of rows) byId.set(row.id, toMessage(row));
  }
  const fresh = messages.filter((m) => !byId.has(m.id));
  if (fresh.length > 0) {
    const lastSeq = await takeSeqs(client, groupId, fresh.length);
    if (lastSeq === undefined) throw new NotFoundError("group");
    const first = lastSeq - fresh.length + 1;
    const { rows } = await client.query<MessageRow>({
      name: "synapse_insert_messages",
      text: `insert into messages (id, group_id, seq, turn_id, sender_type, sender_alias, sender_user_id,
                             content, tool_calls, tool_call_id, meta, idempotency_key)
       select u.id, $1, u.seq, u.turn_id, u.sender_type, u.sender_alias, u.sender_user_id,
              u.content, nullif(u.tool_calls, 'null'::jsonb), u.tool_call_id, nullif(u.meta, 'null'::jsonb),
              u.idempotency_key
         from jsonb_to_recordset($2::jsonb) as u(
           id uuid, seq bigint, turn_id uuid, sender_type text, sender_alias text, sender_user_id uuid,
           content text, tool_calls jsonb, tool_call_id text, meta jsonb, idempotency_key text)
       returning ${MESSAGE_COLUMNS}`,
      values: [
        groupId,
        JSON.stringify(
          fresh.map((m, i) => ({
            id: m.id,
            seq: first + i,
            turn_id: m.turn_id,
            sender_type: m.sender_type,
            sender_alias: m.sender_alias,
            sender_user_id: m.sender_user_id ?? null,
            content: m.content,
            tool_calls: m.tool_calls ?? null,
            tool_call_id: m.tool_call_id ?? null,
            meta: m.meta ?? null,
            idempotency_key: m.idempotency_key ?? null,
          })),
        ),
      ],
    });
    for (const row of rows) byId.set(row.id, toMessage(row));
  }
  return { byId, created: fresh.length };
}

/**
 * Stores a message with the group's next `seq`, in a transaction of its own. A message whose id
 * exists already is not stored again: the existing row is returned with `created: false`.
 */
export async function insertMessage(
  pool: pg.Pool,
  m: NewMessage,
): Promise<{ message: Message; created: boolean }> {
  const stored = await withTransaction(pool, (client) => storeMessages(client, m.group_id, [m]));
  return { message: stored.byId.get(m.id)!, created: stored.created === 1 };
}
