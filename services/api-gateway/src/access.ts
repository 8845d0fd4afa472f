import type pg from "pg";

export type GroupRole = "owner" | "member";

/** The caller's role in a group, or undefined when they are not in it (or it does not exist). */
export async function groupRole(
  db: pg.Pool | pg.PoolClient,
  groupId: string,
  userId: string,
): Promise<GroupRole | undefined> {
  const { rows } = await db.query<{ role: GroupRole }>(
    "select role from group_participants where group_id = $1 and user_id = $2",
    [groupId, userId],
  );
  return rows[0]?.role;
}
