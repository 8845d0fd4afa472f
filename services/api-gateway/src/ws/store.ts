import {
  MESSAGE_COLUMNS,
  type Message,
  type MessageRow,
  type RecentTurn,
  toMessage,
  turnsChangedSince,
} from "@synapse/shared";
import type pg from "pg";

/**
 * Stored messages of a group with `after < seq < before` (no upper bound when `before` is
 * undefined), oldest first, at most `limit`.
 */
export async function readMessages(
  db: pg.Pool,
  groupId: string,
  after: number,
  before: number | undefined,
  limit: number,
): Promise<Message[]> {
  const { rows } =
    before === undefined
      ? await db.query<MessageRow>(
          `select ${MESSAGE_COLUMNS} from messages where group_id = $1 and seq > $2 order by seq limit $3`,
          [groupId, after, limit],
        )
      : await db.query<MessageRow>(
          `select ${MESSAGE_COLUMNS} from messages
            where group_id = $1 and seq > $2 and seq < $3 order by seq limit $4`,
          [groupId, after, before, limit],
        );
  return rows.map(toMessage);
}

/** The group's last committed seq (0 for an empty or unknown group). */
export async function readLastSeq(db: pg.Pool, groupId: string): Promise<number> {
  const { rows } = await db.query<{ last_seq: number }>("select last_seq from groups where id = $1", [
    groupId,
  ]);
  return rows[0]?.last_seq ?? 0;
}

/** A turn as the resync after a subscriber reconnect sees it. */
export type TurnRow = RecentTurn;

/**
 * The group's turns that started or ended since `since` (ms since the epoch, this process's clock,
 * less a margin for the database's), oldest first: what a subscriber away since then missed.
 */
export function readRecentTurns(db: pg.Pool, groupId: string, since: number): Promise<TurnRow[]> {
  return turnsChangedSince(db, groupId, new Date(since - 5000));
}

/** The group's running turn, if any, and which of `messageIds` are stored messages of the group. */
export async function readRunningTurn(
  db: pg.Pool,
  groupId: string,
  messageIds: string[],
): Promise<{ turn: { id: string; message_id: string } | undefined; stored: Set<string> }> {
  const { rows } = await db.query<{ id: string | null; message_id: string | null; stored: string[] }>(
    `select t.id, t.message_id,
            array(select m.id::text from messages m where m.group_id = $1 and m.id = any($2::uuid[])) as stored
       from (select 1) one
       left join turns t on t.group_id = $1 and t.status = 'running'`,
    [groupId, messageIds],
  );
  const row = rows[0];
  const turn = row?.id && row.message_id ? { id: row.id, message_id: row.message_id } : undefined;
  return { turn, stored: new Set(row?.stored ?? []) };
}
