import { MESSAGE_COLUMNS, type Message, type MessageRow, toMessage } from "@synapse/shared";
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
