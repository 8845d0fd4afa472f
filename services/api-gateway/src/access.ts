import { ForbiddenError, NotFoundError } from "@synapse/shared";
import type pg from "pg";

export type GroupRole = "owner" | "member";

/** The caller as a participant of a group. */
export interface Participant {
  role: GroupRole;
  /** the caller's email, the sender alias of the messages they post */
  email: string;
}

/** Options of {@link requireRole}. */
export interface RoleOptions {
  /** the user an action targets: a member acting on themselves (e.g. leaving) needs no owner role */
  ownerOrSelf?: string;
}

/**
 * The one access check of the group routes and the WebSocket: the caller's role in the group.
 * A stranger, or a group that does not exist, gets 404 (not 403: ids cannot be probed); a
 * participant asking for an owner-only change gets 403.
 * @throws NotFoundError (`group`) when the caller is not in the group
 * @throws ForbiddenError when `need` is `owner` and the caller is neither the owner nor, with
 * `ownerOrSelf`, the user acted on
 */
export async function requireRole(
  db: pg.Pool | pg.PoolClient,
  groupId: string,
  userId: string,
  need: GroupRole = "member",
  opts: RoleOptions = {},
): Promise<Participant> {
  const { rows } = await db.query<Participant>(
    `select gp.role, u.email from group_participants gp join users u on u.id = gp.user_id
      where gp.group_id = $1 and gp.user_id = $2`,
    [groupId, userId],
  );
  const me = rows[0];
  if (!me) throw new NotFoundError("group");
  if (need === "owner" && me.role !== "owner" && opts.ownerOrSelf !== userId) throw new ForbiddenError();
  return me;
}

/** Another user's role in a group, or undefined when they are not in it. */
export async function roleOf(
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
