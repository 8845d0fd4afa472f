import {
  endTurn,
  insertMessage,
  type Logger,
  publishFrame,
  type ResultJob,
  withGroupLock,
} from "@synapse/shared";
import type { Redis } from "ioredis";
import type pg from "pg";
import type { GraphStore } from "../graph/checkpointer.ts";
import { readTurnState, runTurnStep, type TurnGraph } from "../graph/graph.ts";
import { noticeId } from "../graph/ids.ts";
import type { AgentRef, TurnState } from "../graph/state.ts";
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

interface TurnRow {
  id: string;
  message_id: string;
}

/**
 * The turn lifecycle around the graph: start (one running turn per group, oldest queued first),
 * feeding results, ending and clean-up. Every method runs under the group lock, so it is atomic
 * with respect to every other step, start, end or cancel of the same group.
 */
export class TurnRunner {
  readonly #mutex = new KeyedMutex();

  constructor(private readonly deps: TurnRunnerDeps) {}

  /** `advance`: starts the oldest queued turn if none runs (or finishes starting the running one). */
  async advance(groupId: string): Promise<void> {
    await this.#locked(groupId, async (client) => {
      const { rows } = await client.query<TurnRow>(
        "select id, message_id from turns where group_id = $1 and status = 'running'",
        [groupId],
      );
      const running = rows[0];
      if (!running) return this.#startNext(client, groupId);
      // running without graph state: its start step died after committing, before its checkpoint
      if (await readTurnState(this.deps.graph, running.id)) return;
      const turn = await this.#start(client, groupId, running);
      if (turn?.ended) await this.#afterEnd(client, groupId, running.id);
    });
  }

  /** `result`: records one execution result in its turn, unless the turn is no longer running. */
  async onResult(job: ResultJob): Promise<void> {
    const { group_id: groupId, turn_id: turnId } = job;
    await this.#locked(groupId, async (client) => {
      const { rows } = await client.query<{ status: string; reason: string | null; message_id: string }>(
        "select status, reason, message_id from turns where id = $1 and group_id = $2",
        [turnId, groupId],
      );
      const row = rows[0];
      const event = { type: "result", dispatch_id: job.dispatch_id, result: job.result } as const;
      if (row?.status !== "running") {
        // ended (completed, cancelled, stalled...) or gone: nothing of it is stored or published,
        // unless the step that ended it died after its commit and before announcing it all
        if (row && row.reason !== "cancelled" && (await readTurnState(this.deps.graph, turnId))) {
          this.deps.logger.info(
            { group_id: groupId, turn_id: turnId },
            "finishing the step that ended the turn",
          );
          await runTurnStep(this.deps.graph, turnId, event);
        } else
          this.deps.logger.debug(
            { group_id: groupId, turn_id: turnId, dispatch_id: job.dispatch_id },
            "result dropped",
          );
        if (row) await this.deps.store.deleteThreads([turnId]);
        return this.#startNextIfIdle(client, groupId);
      }
      let turn = await runTurnStep(this.deps.graph, turnId, event);
      if (!turn) {
        // the turn's start was lost (its step failed after dispatching): replay it, then this result
        turn = await this.#start(client, groupId, { id: turnId, message_id: row.message_id });
        if (turn && !turn.ended) turn = await runTurnStep(this.deps.graph, turnId, event);
      }
      if (turn && !Object.hasOwn(turn.pending, job.dispatch_id) && !turn.handled.includes(job.dispatch_id))
        throw new ResultNotReadyError(job.dispatch_id);
      if (turn?.ended) await this.#afterEnd(client, groupId, turnId);
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
    return this.#locked(groupId, async (client) => {
      const { rows } = await client.query<{ id: string }>(
        `select id from turns where group_id = $1 and status = 'running' and ($2::uuid is null or id = $2)
            and ($3::float8 is null or updated_at < now() - $3::float8 * interval '1 millisecond')`,
        [groupId, turnId, opts.staleForMs ?? null],
      );
      const row = rows[0];
      if (!row) {
        if (!opts.staleForMs) await this.#startNextIfIdle(client, groupId);
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
      await this.#afterEnd(client, groupId, row.id);
      return true;
    });
  }

  #locked<T>(groupId: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.#mutex.run(groupId, () => withGroupLock(this.deps.pool, groupId, fn));
  }

  /** A turn has ended: its graph state goes, and the next queued turn of the group starts. */
  async #afterEnd(client: pg.PoolClient, groupId: string, turnId: string): Promise<void> {
    await this.deps.store.deleteThreads([turnId]);
    await this.#startNext(client, groupId);
  }

  async #startNextIfIdle(client: pg.PoolClient, groupId: string): Promise<void> {
    const { rows } = await client.query(
      "select 1 from turns where group_id = $1 and status = 'running' limit 1",
      [groupId],
    );
    if (rows.length === 0) await this.#startNext(client, groupId);
  }

  /** Starts queued turns in order of their message's seq until one is left running (or none is queued). */
  async #startNext(client: pg.PoolClient, groupId: string): Promise<void> {
    for (;;) {
      const { rows } = await client.query<TurnRow>(
        `select id, message_id from turns where group_id = $1 and status = 'queued'
          order by message_seq limit 1`,
        [groupId],
      );
      const next = rows[0];
      if (!next) return;
      // the start step marks it running, committed before its checkpoint: if the step dies in
      // between, a retry finds the turn running without state and finishes starting it
      const turn = await this.#start(client, groupId, next);
      if (!turn?.ended) return;
      await this.deps.store.deleteThreads([next.id]);
    }
  }

  /** Feeds a turn its start event: the step marks it running, announces it and dispatches its first calls. */
  async #start(client: pg.PoolClient, groupId: string, row: TurnRow): Promise<TurnState | null> {
    const [message, agents] = await Promise.all([
      client.query<{ content: string }>("select content from messages where id = $1", [row.message_id]),
      client.query<AgentRef>(
        "select id, alias, is_orchestrator from agents where group_id = $1 order by created_at, id",
        [groupId],
      ),
    ]);
    this.deps.logger.info({ group_id: groupId, turn_id: row.id }, "turn starting");
    return runTurnStep(this.deps.graph, row.id, {
      type: "start",
      turn_id: row.id,
      group_id: groupId,
      message: { id: row.message_id, content: message.rows[0]?.content ?? "" },
      agents: agents.rows,
      max_steps: this.deps.maxSteps,
    });
  }
}
