import type { Redis } from "ioredis";
import type pg from "pg";
import { lostPreparedStatement, preparesFor, SqlStatement } from "./db/prepared.ts";
import { type GroupFrame, groupChannel, publishFrame, type TurnEndReason } from "./events.ts";
import { uuidLiteral } from "./ids.ts";
import { recordTurnEnded } from "./telemetry/metrics.ts";

const GROUP_LOCK = new SqlStatement(
  "synapse_group_lock",
  "select pg_advisory_xact_lock(hashtextextended($1, 4242))",
  ["text"],
);

/**
 * Runs `fn` while holding the group's lock: a Postgres advisory lock in a transaction, released at
 * commit or when the holder's connection dies (so a crashed process never leaves a group locked).
 * Every change to a group's turns (start, step, end, cancel) runs under it.
 *
 * `opts.reads`: statements without parameters (trusted SQL, values inlined by the caller) run in the
 * same round trip as `begin` and the lock, after the lock is held; `fn` gets their results in order.
 * Those that EXECUTE an {@link SqlStatement} list it in `opts.prepared`: it is prepared in that
 * round trip on a connection that lacks it.
 * `opts.commitWith`: called once `fn` succeeded, statements of the same kind to run in the commit's
 * round trip, before it.
 */
export async function withGroupLock<T>(
  pool: pg.Pool,
  groupId: string,
  fn: (client: pg.PoolClient, reads: pg.QueryResult[]) => Promise<T>,
  opts: { reads?: string[]; prepared?: readonly SqlStatement[]; commitWith?: () => string[] } = {},
): Promise<T> {
  // the id goes into the SQL text so that begin + lock is one round trip (uuidLiteral checks it)
  const lockKey = uuidLiteral(groupId);
  const reads = opts.reads ?? [];
  const client = await pool.connect();
  const prepares = preparesFor(client, [GROUP_LOCK, ...(opts.prepared ?? [])]);
  let broken: Error | undefined;
  try {
    let results: pg.QueryResult[];
    try {
      results = (await client.query(
        [...prepares.sql, "begin", GROUP_LOCK.execute(lockKey), ...reads].join(";\n"),
      )) as unknown as pg.QueryResult[];
    } catch (err) {
      // which of the PREPAREs ran is unknown: the pool drops this connection
      if (prepares.sql.length > 0) broken = err as Error;
      throw err;
    }
    prepares.done();
    const out = await fn(client, results.slice(prepares.sql.length + 2));
    await client.query([...(opts.commitWith?.() ?? []), "commit"].join(";\n"));
    return out;
  } catch (err) {
    if (!broken && lostPreparedStatement(err)) broken = err as Error;
    if (!broken) await client.query("rollback").catch(() => undefined);
    throw err;
  } finally {
    client.release(broken);
  }
}

/**
 * Marks a turn ended unless it already was; returns its group id, or undefined when it had ended
 * before (nothing written). `cancelledBy`: the user who cancelled it. Publishes nothing: inside a
 * transaction, publish after the commit.
 */
export async function markTurnEnded(
  db: pg.Pool | pg.PoolClient,
  turnId: string,
  reason: TurnEndReason,
  cancelledBy?: string,
): Promise<string | undefined> {
  const { rows } = await db.query<{ group_id: string; steps: number; ran_s: number | null }>(
    `update turns set status = 'ended', reason = $2, cancelled_by = $3, ended_at = now(), updated_at = now()
      where id = $1 and status <> 'ended'
      returning group_id, steps, extract(epoch from ended_at - started_at)::float8 as ran_s`,
    [turnId, reason, cancelledBy ?? null],
  );
  const row = rows[0];
  if (row) recordTurnEnded(reason, row.steps, row.ran_s);
  return row?.group_id;
}

/**
 * Marks a turn ended (if it was not already) and publishes `turn.ended`; `db` must autocommit
 * (a pool), so that the frame follows the commit. Returns false when the turn had ended before.
 */
export async function endTurn(
  db: pg.Pool,
  redis: Redis,
  prefix: string,
  turnId: string,
  reason: TurnEndReason,
): Promise<boolean> {
  const groupId = await markTurnEnded(db, turnId, reason);
  if (groupId === undefined) return false;
  await publishFrame(redis, prefix, groupId, {
    type: "turn.ended",
    group_id: groupId,
    turn_id: turnId,
    reason,
  });
  return true;
}

/** Redis key marking a cancelled turn, read by workers before and during a job. */
export function cancelKey(prefix: string, turnId: string): string {
  return `${prefix}:cancelled:${turnId}`;
}

/** Channel on which workers hear of cancels, to abort in-flight calls. */
export function controlChannel(prefix: string): string {
  return `${prefix}:control`;
}

/**
 * Tells every process that a turn is cancelled: the key for late starters, the control channel
 * for in-flight calls, and the group channel so gateways drop any frame of the turn sent after it.
 * With `ended` (the cancel has just ended the turn, committed), its `turn.ended` goes first, in the
 * same transaction, naming `by`, the user who cancelled it.
 */
export async function announceCancel(
  redis: Redis,
  prefix: string,
  groupId: string,
  turnId: string,
  opts: { ended?: boolean; by?: string } = {},
): Promise<void> {
  const tx = redis.multi();
  if (opts.ended)
    tx.publish(
      groupChannel(prefix, groupId),
      JSON.stringify({
        type: "turn.ended",
        group_id: groupId,
        turn_id: turnId,
        reason: "cancelled",
        ...(opts.by ? { cancelled_by: opts.by } : {}),
      } satisfies GroupFrame),
    );
  await tx
    .set(cancelKey(prefix, turnId), "1", "EX", 86_400)
    .publish(controlChannel(prefix), JSON.stringify({ type: "cancel", group_id: groupId, turn_id: turnId }))
    .publish(
      groupChannel(prefix, groupId),
      JSON.stringify({ type: "_turn.cancelled", group_id: groupId, turn_id: turnId }),
    )
    .exec();
}
