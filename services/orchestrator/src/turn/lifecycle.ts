import {
  endTurn,
  insertMessage,
  type Logger,
  publishFrame,
  type ResultJob,
  SqlStatement,
  uuidLiteral,
  withGroupLock,
} from "@synapse/shared";
import { inSpan, type TraceCarrier } from "@synapse/shared/telemetry/tracing";
import type { Redis } from "ioredis";
import type pg from "pg";
import type { GraphStore } from "../graph/checkpointer.ts";
import { readTurnState, runTurnStep, type TurnGraph } from "../graph/graph.ts";
import { noticeId } from "../graph/ids.ts";
import type { AgentRef, TurnEvent, TurnState } from "../graph/state.ts";
import { ResultNotReadyError } from "./errors.ts";
import { KeyedMutex } from "./group-mutex.ts";

export interface TurnRunnerDeps {
  pool: pg.Pool;
  redis: Redis;
  prefix: string;
  graph: TurnGraph;
  store: GraphStore;
  maxSteps: number;
  logger: Logger;
}

/** A turn to start, with what its start event needs when the same round trip read it. */
interface TurnRow {
  id: string;
  message_id: string;
  status?: string;
  content?: string | null;
  agents?: AgentRef[];
  /** The trace context of the request that began the turn (null when tracing was off). */
  trace?: TraceCarrier | null;
}

/** What one job under the group lock carries to its commit. */
interface JobContext {
  /** Threads whose checkpoint was primed (their checkpoint writes commit with the job). */
  primed: string[];
  /** Statements without parameters to run in the commit's round trip. */
  atCommit: string[];
  /** No turn of the group was queued when the lock was taken. */
  noQueued?: boolean;
}

// ids are inlined (uuidLiteral) so that reads ride on the lock's round trip
const uuid = uuidLiteral;

/** Columns of a turn to start: its message's content and the group's agents come along. */
const START_COLUMNS = `t.id, t.status, t.message_id, t.trace, m.content,
  (select coalesce(json_agg(json_build_object('id', a.id, 'alias', a.alias, 'is_orchestrator', a.is_orchestrator)
                            order by a.created_at, a.id), '[]'::json)
     from agents a where a.group_id = t.group_id) as agents`;

/**
 * The running turn of group `$1`, else its oldest queued one (`queued`: only a queued one; with
 * `ifIdle`, only when none runs), with what its start needs and, given `latest` (the store's
 * statement for a thread's latest checkpoint), that checkpoint's columns: one statement, one snapshot.
 */
function turnToRunSql(opts: {
  queued?: boolean;
  ifIdle?: boolean;
  latest?: (threadIdSql: string) => string;
}): string {
  const checkpoint = opts.latest ? ` left join lateral (${opts.latest("t.id")}) cp on true` : "";
  return `select ${START_COLUMNS}${checkpoint ? ", cp.*" : ""}
    from turns t left join messages m on m.id = t.message_id${checkpoint}
   where t.group_id = $1 and ${
     opts.queued
       ? `t.status = 'queued'${
           opts.ifIdle
             ? " and not exists (select 1 from turns r where r.group_id = $1 and r.status = 'running')"
             : ""
         }`
       : "t.status in ('running', 'queued')"
   }
   order by t.status = 'running' desc, t.message_seq limit 1`;
}

/**
 * The reads of the lifecycle, prepared on each connection (they ride on the lock's round trip as
 * EXECUTEs, their plans kept: planning them each time cost PostgreSQL more than running them).
 */
function lifecycleStatements(latest: ((threadIdSql: string) => string) | undefined) {
  const statements = {
    turnRow: new SqlStatement(
      "synapse_turn_row",
      "select status, reason, message_id, trace from turns where id = $1 and group_id = $2",
      ["uuid", "uuid"],
    ),
    checkpoint: latest && new SqlStatement("synapse_turn_checkpoint", latest("$1"), ["text"]),
    hasQueued: new SqlStatement(
      "synapse_turn_has_queued",
      "select exists (select 1 from turns where group_id = $1 and status = 'queued') as queued",
      ["uuid"],
    ),
    toRun: new SqlStatement("synapse_turn_to_run", turnToRunSql({ latest }), ["uuid"]),
    nextQueued: new SqlStatement("synapse_turn_next", turnToRunSql({ queued: true, latest }), ["uuid"]),
    nextIfIdle: new SqlStatement(
      "synapse_turn_next_if_idle",
      turnToRunSql({ queued: true, ifIdle: true, latest }),
      ["uuid"],
    ),
  };
  const all = Object.values(statements).filter((st): st is SqlStatement => st !== undefined);
  return { ...statements, all };
}

/**
 * The turn lifecycle around the graph: start (one running turn per group, oldest queued first),
 * feeding results, ending and clean-up. Every method runs under the group lock, so it is atomic
 * with respect to every other step, start, end or cancel of the same group.
 *
 * Round trips: the reads a job needs (its turn row and the thread's latest checkpoint, or the turn
 * to start with its message and the group's agents) go with `begin` and the lock in one round trip;
 * the checkpoint read is handed to the saver (`GraphStore.sql.prime`), so the step reads nothing
 * more; deleting an ended turn's state goes with reading the next queued turn.
 */
export class TurnRunner {
  readonly #mutex = new KeyedMutex();
  readonly #reads: ReturnType<typeof lifecycleStatements>;

  constructor(private readonly deps: TurnRunnerDeps) {
    this.#reads = lifecycleStatements(deps.store.sql?.latest);
  }

  /** `advance`: starts the oldest queued turn if none runs (or finishes starting the running one). */
  async advance(groupId: string): Promise<void> {
    const reads = [this.#reads.toRun.execute(uuid(groupId))];
    await this.#locked(groupId, reads, async (client, [current], ctx) => {
      const row = current?.rows[0] as (TurnRow & { checkpoint_id?: string | null }) | undefined;
      if (!row) return;
      this.#prime(row, ctx);
      if (row.status === "running") {
        // running without graph state: its start step died after committing, before its checkpoint
        if (await readTurnState(this.deps.graph, row.id)) return;
        const turn = await this.#start(client, groupId, row);
        if (turn?.ended) await this.#afterEnd(client, groupId, row.id, ctx);
        return;
      }
      await this.#startFrom(client, groupId, row, ctx);
    });
  }

  /** `result`: records one execution result in its turn, unless the turn is no longer running. */
  async onResult(job: ResultJob): Promise<void> {
    const { group_id: groupId, turn_id: turnId } = job;
    const sql = this.deps.store.sql;
    const reads = [this.#reads.turnRow.execute(uuid(turnId), uuid(groupId))];
    // the checkpoint statement exists only when the store has SQL
    if (this.#reads.checkpoint)
      reads.push(this.#reads.checkpoint.execute(uuid(turnId)), this.#reads.hasQueued.execute(uuid(groupId)));
    await this.#locked(groupId, reads, async (client, [turnRow, checkpoint, queued], ctx) => {
      // no queued turn when the lock was taken: one queued later gets its own \`advance\`
      ctx.noQueued = queued?.rows[0]?.queued === false;
      if (sql && checkpoint) {
        sql.prime(turnId, checkpoint.rows);
        ctx.primed.push(turnId);
      }
      const row = turnRow?.rows[0] as
        | { status: string; reason: string | null; message_id: string; trace: TraceCarrier | null }
        | undefined;
      const event = { type: "result", dispatch_id: job.dispatch_id, result: job.result } as const;
      if (row?.status !== "running") {
        // ended (completed, cancelled, stalled...) or gone: nothing of it is stored or published,
        // unless the step that ended it died after its commit and before announcing it all
        if (row && row.reason !== "cancelled" && (await readTurnState(this.deps.graph, turnId))) {
          this.deps.logger.info(
            { group_id: groupId, turn_id: turnId },
            "finishing the step that ended the turn",
          );
          await this.#step(groupId, turnId, row.trace, event);
        } else
          this.deps.logger.debug(
            { group_id: groupId, turn_id: turnId, dispatch_id: job.dispatch_id },
            "result dropped",
          );
        const next = await this.#next(client, groupId, row ? [turnId] : [], true, ctx);
        return this.#startFrom(client, groupId, next, ctx);
      }
      let turn = await this.#step(groupId, turnId, row.trace, event);
      if (!turn) {
        // the turn's start was lost (its step failed after dispatching): replay it, then this result
        turn = await this.#start(client, groupId, {
          id: turnId,
          message_id: row.message_id,
          trace: row.trace,
        });
        if (turn && !turn.ended) turn = await this.#step(groupId, turnId, row.trace, event);
      }
      if (turn && !Object.hasOwn(turn.pending, job.dispatch_id) && !turn.handled.includes(job.dispatch_id))
        throw new ResultNotReadyError(job.dispatch_id);
      if (turn?.ended) await this.#afterEnd(client, groupId, turnId, ctx);
    });
  }

  /**
   * Ends a running turn with `error` and a visible notice: used when its job exhausted its attempts
   * (`turnId` given, or the group's running turn) and when it stalled.
   * With `staleForMs`, only when the turn has made no progress since then (checked under the lock).
   */
  async failTurn(
    groupId: string,
    turnId: string | null,
    what: "failed" | "stalled",
    opts: { staleForMs?: number } = {},
  ): Promise<boolean> {
    return this.#locked(groupId, [], async (client, _reads, ctx) => {
      const { rows } = await client.query<{ id: string }>(
        `select id from turns where group_id = $1 and status = 'running' and ($2::uuid is null or id = $2)
            and ($3::float8 is null or updated_at < now() - $3::float8 * interval '1 millisecond')`,
        [groupId, turnId, opts.staleForMs ?? null],
      );
      const row = rows[0];
      if (!row) {
        if (!opts.staleForMs)
          await this.#startFrom(client, groupId, await this.#next(client, groupId, [], true, ctx), ctx);
        return false;
      }
      const content =
        what === "stalled"
          ? "This turn was stopped: it made no progress for too long."
          : "This turn was stopped by an internal error.";
      const { message } = await insertMessage(this.deps.pool, {
        id: noticeId(row.id, what),
        group_id: groupId,
        turn_id: row.id,
        sender_type: "system",
        sender_alias: "system",
        content,
      });
      await publishFrame(this.deps.redis, this.deps.prefix, groupId, { type: "message", message });
      await endTurn(this.deps.pool, this.deps.redis, this.deps.prefix, row.id, "error");
      this.deps.logger.warn({ group_id: groupId, turn_id: row.id, reason: what }, "turn ended with error");
      await this.#afterEnd(client, groupId, row.id, ctx);
      return true;
    });
  }

  /**
   * Runs `fn` under the group lock, `reads` in the lock's round trip. Threads whose checkpoint `fn`
   * primes (listed in its third argument) have their checkpoint writes deferred to the commit, and
   * are unprimed when it is done (a failed job's deferred writes are dropped: the retry starts from
   * the previous checkpoint, as after a crash).
   */
  #locked<T>(
    groupId: string,
    reads: string[],
    fn: (client: pg.PoolClient, reads: pg.QueryResult[], ctx: JobContext) => Promise<T>,
  ): Promise<T> {
    return this.#mutex.run(groupId, async () => {
      const ctx: JobContext = { primed: [], atCommit: [] };
      try {
        return await withGroupLock(this.deps.pool, groupId, (client, results) => fn(client, results, ctx), {
          reads,
          prepared: this.#reads.all,
          // the checkpoints the steps wrote (after their effects) commit with the lock's transaction
          commitWith: () => [
            ...ctx.primed.flatMap((id) => this.deps.store.sql?.takeDeferredPut(id) ?? []),
            ...ctx.atCommit,
          ],
        });
      } finally {
        for (const id of ctx.primed) this.deps.store.sql?.unprime(id);
      }
    });
  }

  /** A turn has ended: its graph state goes, and the next queued turn of the group starts. */
  async #afterEnd(client: pg.PoolClient, groupId: string, turnId: string, ctx: JobContext): Promise<void> {
    const sql = this.deps.store.sql;
    if (sql && ctx.noQueued) {
      // nothing to start: the state goes with the commit (and the step's own checkpoint write with it)
      ctx.atCommit.push(sql.deleteThreads([turnId]));
      return;
    }
    await this.#startFrom(client, groupId, await this.#next(client, groupId, [turnId], false, ctx), ctx);
  }

  /**
   * Deletes the graph state of `deleteIds` and reads the group's oldest queued turn (only if none
   * runs, with `ifIdle`) with what its start needs and its checkpoint: one round trip.
   */
  async #next(
    client: pg.PoolClient,
    groupId: string,
    deleteIds: string[],
    ifIdle: boolean,
    ctx: JobContext,
  ): Promise<TurnRow | undefined> {
    const sql = this.deps.store.sql;
    const next = (ifIdle ? this.#reads.nextIfIdle : this.#reads.nextQueued).execute(uuid(groupId));
    if (!sql) {
      await this.deps.store.deleteThreads(deleteIds);
      const { rows } = await client.query<TurnRow>(next);
      return rows[0];
    }
    const statements = deleteIds.length > 0 ? [sql.deleteThreads(deleteIds), next] : [next];
    const results = (await client.query(statements.join(";\n"))) as unknown as
      | pg.QueryResult
      | pg.QueryResult[];
    const row = (Array.isArray(results) ? results.at(-1) : results)?.rows[0] as TurnRow | undefined;
    if (row) this.#prime(row, ctx);
    return row;
  }

  /** Hands the store the checkpoint read with a turn row (none: the thread has no state). */
  #prime(row: TurnRow & { checkpoint_id?: string | null }, ctx: JobContext): void {
    const sql = this.deps.store.sql;
    if (!sql) return;
    sql.prime(row.id, row.checkpoint_id ? [row] : []);
    ctx.primed.push(row.id);
  }

  /** Starts `row` and, while the turn started ends at once, the next queued ones, until one is left running. */
  async #startFrom(
    client: pg.PoolClient,
    groupId: string,
    row: TurnRow | undefined,
    ctx: JobContext,
  ): Promise<void> {
    let next = row;
    while (next) {
      // the start step marks it running, committed before its checkpoint: if the step dies in
      // between, a retry finds the turn running without state and finishes starting it
      const turn = await this.#start(client, groupId, next);
      if (!turn?.ended) return;
      next = await this.#next(client, groupId, [next.id], false, ctx);
    }
  }

  /** Feeds a turn its start event: the step marks it running, announces it and dispatches its first calls. */
  async #start(client: pg.PoolClient, groupId: string, row: TurnRow): Promise<TurnState | null> {
    let { content, agents } = row;
    if (agents === undefined) {
      const [message, list] = await Promise.all([
        client.query<{ content: string }>("select content from messages where id = $1", [row.message_id]),
        client.query<AgentRef>(
          "select id, alias, is_orchestrator from agents where group_id = $1 order by created_at, id",
          [groupId],
        ),
      ]);
      content = message.rows[0]?.content;
      agents = list.rows;
    }
    this.deps.logger.info({ group_id: groupId, turn_id: row.id }, "turn starting");
    return this.#step(groupId, row.id, row.trace, {
      type: "start",
      turn_id: row.id,
      group_id: groupId,
      message: { id: row.message_id, content: content ?? "" },
      agents,
      max_steps: this.deps.maxSteps,
    });
  }

  /**
   * Runs one graph step of a turn in a `turn.step` span, child of the request that began the turn
   * (`trace`, read with the turn row): the jobs the step adds carry this span on (effects.ts).
   */
  #step(groupId: string, turnId: string, trace: TraceCarrier | null | undefined, event: TurnEvent) {
    const attributes = {
      "synapse.group_id": groupId,
      "synapse.turn_id": turnId,
      "synapse.event": event.type,
      ...(event.type === "result" && {
        "synapse.dispatch_id": event.dispatch_id,
        "synapse.result": event.result.kind,
      }),
    };
    return inSpan("turn.step", { parent: trace, attributes }, () =>
      runTurnStep(this.deps.graph, turnId, event),
    );
  }
}
