import type { Redis } from "ioredis";
import type pg from "pg";
import { withTransaction } from "./db/tx.ts";
import { publishFrame, type TurnEndReason, type TurnStatus } from "./events.ts";
import { type NewMessage, storeMessages } from "./messages.ts";
import { recordTurnEnded } from "./telemetry/metrics.ts";
import type { TraceCarrier } from "./telemetry/tracing.ts";
import { type TurnChange, type TurnTransition, turnTransition } from "./turn-status.ts";

/**
 * Runs `fn` in a transaction holding the group's lock: a Postgres advisory lock, released at commit
 * or when the holder's connection dies (so a crashed process never leaves a group locked). Every
 * change to a group's turns (start, step, end, cancel) runs under it.
 */
export function withGroupLock<T>(
  pool: pg.Pool,
  groupId: string,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  return withTransaction(pool, async (client) => {
    await client.query({
      name: "synapse_group_lock",
      text: "select pg_advisory_xact_lock(hashtextextended($1, 4242))",
      values: [groupId],
    });
    return fn(client);
  });
}

/** What the turn lifecycle reads of a turn it feeds a result to. */
export interface TurnRecord {
  status: TurnStatus;
  reason: TurnEndReason | null;
  message_id: string;
  /** The trace context of the request that began the turn (null when tracing was off). */
  trace: TraceCarrier | null;
}

/** A turn of the group, or undefined when the group has no such turn. */
export async function readTurn(
  db: pg.Pool | pg.PoolClient,
  groupId: string,
  turnId: string,
): Promise<TurnRecord | undefined> {
  const { rows } = await db.query<TurnRecord>({
    name: "synapse_read_turn",
    text: "select status, reason, message_id, trace from turns where id = $1 and group_id = $2",
    values: [turnId, groupId],
  });
  return rows[0];
}

/**
 * A turn's status, read without a lock: only for a caller holding the turn's group lock, under
 * which every change of a turn's status is made.
 */
export async function readTurnStatus(
  db: pg.Pool | pg.PoolClient,
  turnId: string,
): Promise<TurnStatus | undefined> {
  const { rows } = await db.query<{ status: TurnStatus }>({
    name: "synapse_turn_status",
    text: "select status from turns where id = $1",
    values: [turnId],
  });
  return rows[0]?.status;
}

/** A turn to start, with what its start event needs: its message's content and the group's agents. */
export interface TurnToStart {
  id: string;
  status: TurnStatus;
  message_id: string;
  trace: TraceCarrier | null;
  content: string | null;
  /** The group's agents, oldest first. */
  agents: { id: string; alias: string; is_orchestrator: boolean }[];
}

/**
 * Which turn of a group to start: `current`, its running turn, else its oldest queued one; `next`,
 * its oldest queued one; `next-if-idle`, that one only when no turn of the group runs.
 */
export type TurnPick = "current" | "next" | "next-if-idle";

const PICK_WHERE: Record<TurnPick, string> = {
  current: "t.status in ('running', 'queued')",
  next: "t.status = 'queued'",
  "next-if-idle":
    "t.status = 'queued' and not exists (select 1 from turns r where r.group_id = $1 and r.status = 'running')",
};

const TURN_TO_START = `select t.id, t.status, t.message_id, t.trace, m.content,
    (select coalesce(json_agg(json_build_object('id', a.id, 'alias', a.alias, 'is_orchestrator', a.is_orchestrator)
                              order by a.created_at, a.id), '[]'::json)
       from agents a where a.group_id = t.group_id) as agents
  from turns t left join messages m on m.id = t.message_id`;

/** The group's turn to start (see {@link TurnPick}), in one statement, so one snapshot. */
export async function pickTurn(
  db: pg.Pool | pg.PoolClient,
  groupId: string,
  pick: TurnPick,
): Promise<TurnToStart | undefined> {
  const { rows } = await db.query<TurnToStart>({
    name: `synapse_pick_turn_${pick}`,
    text: `${TURN_TO_START} where t.group_id = $1 and ${PICK_WHERE[pick]}
      order by t.status = 'running' desc, t.message_seq limit 1`,
    values: [groupId],
  });
  return rows[0];
}

/** A turn of the group with what its start event needs, or undefined when the group has no such turn. */
export async function readTurnToStart(
  db: pg.Pool | pg.PoolClient,
  groupId: string,
  turnId: string,
): Promise<TurnToStart | undefined> {
  const { rows } = await db.query<TurnToStart>(`${TURN_TO_START} where t.group_id = $1 and t.id = $2`, [
    groupId,
    turnId,
  ]);
  return rows[0];
}

/**
 * The group's running turn (`turnId`: only that one), when it has made no progress for
 * `staleForMs` (null: whatever its progress).
 */
export async function findRunningTurn(
  db: pg.Pool | pg.PoolClient,
  groupId: string,
  turnId: string | null,
  staleForMs: number | null,
): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    `select id from turns where group_id = $1 and status = 'running' and ($2::uuid is null or id = $2)
        and ($3::float8 is null or updated_at < now() - $3::float8 * interval '1 millisecond')`,
    [groupId, turnId, staleForMs],
  );
  return rows[0]?.id;
}

/** What {@link changeTurn} did to a turn's row. */
export interface TurnChanged {
  group_id: string;
  started: boolean;
  ended: boolean;
  steps: number;
  /** Seconds from its start to its end, once ended after starting. */
  ran_s: number | null;
}

/**
 * The SET list of the update that carries out transition `t`, its parameters numbered after
 * `values` (which it extends), and `variant`, one name per text. `startSeq`: a value, or SQL for it.
 */
export function turnUpdate(
  t: TurnTransition,
  change: TurnChange,
  values: unknown[],
  opts: { startSeq: number | null | { sql: string }; cancelledBy?: string | undefined },
): { set: string; values: unknown[]; variant: string } {
  const out = [...values];
  const set: string[] = ["updated_at = now()"];
  const assign = (column: string, value: unknown) => {
    out.push(value);
    set.push(`${column} = $${out.length}`);
  };
  assign("status", t.status);
  if (t.starts) {
    set.push("started_at = now()");
    if (typeof opts.startSeq === "object" && opts.startSeq !== null)
      set.push(`start_seq = ${opts.startSeq.sql}`);
    else assign("start_seq", opts.startSeq);
  }
  if (t.progresses && change.progress) {
    assign("steps", change.progress.steps);
    assign("usage", JSON.stringify(change.progress.usage));
  }
  if (t.ends) {
    set.push("ended_at = now()");
    assign("reason", change.end);
    assign("cancelled_by", opts.cancelledBy ?? null);
  }
  return {
    set: set.join(", "),
    values: out,
    variant: `${Number(t.starts)}${Number(t.progresses)}${Number(t.ends)}`,
  };
}

/**
 * Applies `change` to a turn's row as the state machine ({@link turnTransition}) decides from its
 * status, read with a row lock so that concurrent changes apply one after the other. Run it in a
 * transaction. Returns undefined when the turn does not exist or nothing changed. `startSeq`: the
 * group's last seq before the step that starts the turn; `cancelledBy`: the user ending it.
 */
export async function changeTurn(
  client: pg.PoolClient,
  turnId: string,
  change: TurnChange,
  opts: { startSeq?: number; cancelledBy?: string } = {},
): Promise<TurnChanged | undefined> {
  const { rows: current } = await client.query<{ status: TurnStatus }>({
    name: "synapse_lock_turn",
    text: "select status from turns where id = $1 for update",
    values: [turnId],
  });
  const t = current[0] && turnTransition(current[0].status, change);
  if (!t) return undefined;
  const update = turnUpdate(t, change, [turnId], {
    startSeq: opts.startSeq ?? null,
    cancelledBy: opts.cancelledBy,
  });
  const { rows } = await client.query<{ group_id: string; steps: number; ran_s: number | null }>({
    name: `synapse_change_turn_${update.variant}`,
    text: `update turns set ${update.set} where id = $1
      returning group_id, steps, extract(epoch from ended_at - started_at)::float8 as ran_s`,
    values: update.values,
  });
  const row = rows[0]!;
  return { group_id: row.group_id, started: t.starts, ended: t.ends, steps: row.steps, ran_s: row.ran_s };
}

/**
 * Marks a turn ended unless it already was; returns its group id, or undefined when it had ended
 * before (nothing written). `cancelledBy`: the user who cancelled it. Run it in a transaction;
 * it publishes nothing: publish after the commit.
 */
export async function markTurnEnded(
  client: pg.PoolClient,
  turnId: string,
  reason: TurnEndReason,
  cancelledBy?: string,
): Promise<string | undefined> {
  const changed = await changeTurn(client, turnId, { end: reason }, { cancelledBy });
  if (changed) recordTurnEnded(reason, changed.steps, changed.ran_s);
  return changed?.group_id;
}

/**
 * Marks a turn ended (if it was not already) and stores `notice` (a message saying why) with it,
 * in a transaction of its own, and publishes the notice, then `turn.ended`, after its commit:
 * a client never sees the notice of a turn that did not end. Returns false when the turn had
 * ended before.
 */
export async function endTurn(
  db: pg.Pool,
  redis: Redis,
  prefix: string,
  turnId: string,
  reason: TurnEndReason,
  notice?: NewMessage,
): Promise<boolean> {
  const { groupId, message } = await withTransaction(db, async (client) => {
    const ended = await markTurnEnded(client, turnId, reason);
    const stored = ended && notice ? await storeMessages(client, notice.group_id, [notice]) : undefined;
    return { groupId: ended, message: notice && stored?.byId.get(notice.id) };
  });
  if (groupId === undefined) return false;
  if (message) await publishFrame(redis, prefix, groupId, { type: "message", message });
  await publishFrame(redis, prefix, groupId, {
    type: "turn.ended",
    group_id: groupId,
    turn_id: turnId,
    reason,
  });
  return true;
}

/** Up to 1000 groups (of `groupIds`, null: of all) with a queued turn and none running. */
export async function idleGroupsWithQueuedTurns(
  db: pg.Pool | pg.PoolClient,
  groupIds: string[] | null,
): Promise<string[]> {
  const { rows } = await db.query<{ group_id: string }>(
    `select distinct q.group_id from turns q
      where q.status = 'queued' and ($1::uuid[] is null or q.group_id = any($1))
        and not exists (select 1 from turns r where r.group_id = q.group_id and r.status = 'running')
      limit 1000`,
    [groupIds],
  );
  return rows.map((r) => r.group_id);
}

/** Up to 1000 running turns (of `groupIds`, null: of all) with no progress for `staleForMs`. */
export async function stalledTurns(
  db: pg.Pool | pg.PoolClient,
  staleForMs: number,
  groupIds: string[] | null,
): Promise<{ id: string; group_id: string }[]> {
  const { rows } = await db.query<{ id: string; group_id: string }>(
    `select id, group_id from turns
      where status = 'running' and updated_at < now() - $1::float8 * interval '1 millisecond'
        and ($2::uuid[] is null or group_id = any($2))
      limit 1000`,
    [staleForMs, groupIds],
  );
  return rows;
}

/** Of these ids (UUIDs), those of turns that exist and have not ended. */
export async function unendedTurns(db: pg.Pool | pg.PoolClient, turnIds: string[]): Promise<Set<string>> {
  if (turnIds.length === 0) return new Set();
  const { rows } = await db.query<{ id: string }>(
    "select id from turns where id = any($1::uuid[]) and status <> 'ended'",
    [turnIds],
  );
  return new Set(rows.map((r) => r.id));
}

/** A turn as clients see it (`GET /groups/{id}/turns/{turn_id}`). */
export interface TurnView {
  id: string;
  status: TurnStatus;
  reason: TurnEndReason | null;
  steps: number;
  message_id: string;
  started_at: Date | null;
  ended_at: Date | null;
  cancelled_by: string | null;
  usage: { input_tokens?: number; output_tokens?: number; by_agent?: Record<string, unknown> } | null;
}

/** A turn of the group as clients see it, or undefined when the group has no such turn. */
export async function readTurnView(
  db: pg.Pool,
  groupId: string,
  turnId: string,
): Promise<TurnView | undefined> {
  const { rows } = await db.query<TurnView>(
    `select id, status, reason, steps, message_id, started_at, ended_at, cancelled_by, usage
       from turns where id = $1 and group_id = $2`,
    [turnId, groupId],
  );
  return rows[0];
}

/** The group's turns, with their status (a group being deleted: which of them still run). */
export async function groupTurns(
  db: pg.Pool | pg.PoolClient,
  groupId: string,
): Promise<{ id: string; status: TurnStatus }[]> {
  const { rows } = await db.query<{ id: string; status: TurnStatus }>(
    "select id, status from turns where group_id = $1",
    [groupId],
  );
  return rows;
}

/** A turn as the resync after a subscriber reconnect sees it. */
export interface RecentTurn {
  id: string;
  message_id: string;
  status: "running" | "ended";
  reason: TurnEndReason | null;
  /** who cancelled it, when a person did */
  cancelled_by?: string;
  /** it started since the time asked for */
  started_since: boolean;
}

/** The group's turns that started or ended since `since` (a time of the database's clock), oldest first. */
export async function turnsChangedSince(db: pg.Pool, groupId: string, since: Date): Promise<RecentTurn[]> {
  const { rows } = await db.query<Omit<RecentTurn, "cancelled_by"> & { cancelled_by: string | null }>(
    `select id, message_id, status, reason, cancelled_by, coalesce(started_at >= $2, false) as started_since
       from turns
      where group_id = $1 and (started_at >= $2 or ended_at >= $2)
      order by message_seq`,
    [groupId, since],
  );
  // left out of the frame rather than sent as null
  return rows.map(({ cancelled_by, ...t }) => (cancelled_by ? { ...t, cancelled_by } : t));
}
