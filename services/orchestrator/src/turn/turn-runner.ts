import {
  endTurn,
  findRunningTurn,
  type Logger,
  pickTurn,
  type ResultJob,
  readTurn,
  readTurnToStart,
  type TurnPick,
  type TurnToStart,
  withGroupLock,
} from "@synapse/shared";
import { inSpan, type TraceCarrier } from "@synapse/shared/telemetry/tracing";
import type { Redis } from "ioredis";
import type pg from "pg";
import { readTurnState, runTurnStep, type TurnGraph } from "../graph/graph.ts";
import type { GraphStore } from "../graph/graph-store.ts";
import { noticeId } from "../graph/ids.ts";
import type { TurnEvent, TurnState } from "../graph/state.ts";
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

/**
 * One job under the group lock: the connection of its transaction, and the turn graph over a saver
 * bound to it, so that the checkpoints of the job's steps commit (or roll back) with the job.
 */
interface LockedJob {
  client: pg.PoolClient;
  graph: ReturnType<TurnGraph["withSaver"]>;
}

/**
 * The turn lifecycle around the graph: start (one running turn per group, oldest queued first),
 * feeding results, ending and clean-up. Every method runs under the group lock, in one transaction,
 * so it is atomic with respect to every other step, start, end or cancel of the same group; a job
 * that fails leaves no checkpoint behind (its retry starts from the previous one, as after a crash).
 */
export class TurnRunner {
  readonly #mutex = new KeyedMutex();

  constructor(private readonly deps: TurnRunnerDeps) {}

  /** `advance`: starts the oldest queued turn if none runs (or finishes starting the running one). */
  async advance(groupId: string): Promise<void> {
    await this.#locked(groupId, async (job) => {
      const row = await pickTurn(job.client, groupId, "current");
      if (!row) return;
      if (row.status === "running") {
        // running without graph state: its start step died after committing, before its checkpoint
        if (await readTurnState(job.graph, row.id)) return;
        const turn = await this.#start(job, groupId, row);
        if (turn?.ended) await this.#afterEnd(job, groupId, row.id);
        return;
      }
      await this.#startFrom(job, groupId, row);
    });
  }

  /** `result`: records one execution result in its turn, unless the turn is no longer running. */
  async onResult(result: ResultJob): Promise<void> {
    const { group_id: groupId, turn_id: turnId } = result;
    await this.#locked(groupId, async (job) => {
      const row = await readTurn(job.client, groupId, turnId);
      const event = { type: "result", dispatch_id: result.dispatch_id, result: result.result } as const;
      if (row?.status !== "running") {
        // ended (completed, cancelled, stalled...) or gone: nothing of it is stored or published,
        // unless the step that ended it died after its commit and before announcing it all
        if (row && row.reason !== "cancelled" && (await readTurnState(job.graph, turnId))) {
          this.deps.logger.info(
            { group_id: groupId, turn_id: turnId },
            "finishing the step that ended the turn",
          );
          await this.#step(job, groupId, turnId, row.trace, event);
        } else
          this.deps.logger.debug(
            { group_id: groupId, turn_id: turnId, dispatch_id: result.dispatch_id },
            "result dropped",
          );
        const next = await this.#next(job, groupId, row ? [turnId] : [], "next-if-idle");
        return this.#startFrom(job, groupId, next);
      }
      let turn = await this.#step(job, groupId, turnId, row.trace, event);
      if (!turn) {
        // the turn's start was lost (its step failed after dispatching): replay it, then this result
        const start = await readTurnToStart(job.client, groupId, turnId);
        turn = start ? await this.#start(job, groupId, start) : null;
        if (turn && !turn.ended) turn = await this.#step(job, groupId, turnId, row.trace, event);
      }
      if (
        turn &&
        !Object.hasOwn(turn.pending, result.dispatch_id) &&
        !turn.handled.includes(result.dispatch_id)
      )
        throw new ResultNotReadyError(result.dispatch_id);
      if (turn?.ended) await this.#afterEnd(job, groupId, turnId);
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
    return this.#locked(groupId, async (job) => {
      const id = await findRunningTurn(job.client, groupId, turnId, opts.staleForMs ?? null);
      if (!id) {
        if (!opts.staleForMs)
          await this.#startFrom(job, groupId, await this.#next(job, groupId, [], "next-if-idle"));
        return false;
      }
      const content =
        what === "stalled"
          ? "This turn was stopped: it made no progress for too long."
          : "This turn was stopped by an internal error.";
      await endTurn(this.deps.pool, this.deps.redis, this.deps.prefix, id, "error", {
        id: noticeId(id, what),
        group_id: groupId,
        turn_id: id,
        sender_type: "system",
        sender_alias: "system",
        content,
      });
      this.deps.logger.warn({ group_id: groupId, turn_id: id, reason: what }, "turn ended with error");
      await this.#afterEnd(job, groupId, id);
      return true;
    });
  }

  /** Runs `fn` under the group lock, with the graph over a saver bound to the lock's transaction. */
  #locked<T>(groupId: string, fn: (job: LockedJob) => Promise<T>): Promise<T> {
    return this.#mutex.run(groupId, () =>
      withGroupLock(this.deps.pool, groupId, (client) =>
        fn({ client, graph: this.deps.graph.withSaver(this.deps.store.saverFor(client)) }),
      ),
    );
  }

  /** A turn has ended: its graph state goes, and the next queued turn of the group starts. */
  async #afterEnd(job: LockedJob, groupId: string, turnId: string): Promise<void> {
    await this.#startFrom(job, groupId, await this.#next(job, groupId, [turnId], "next"));
  }

  /** Deletes the graph state of `deleteIds` and reads the group's next turn to start. */
  async #next(
    job: LockedJob,
    groupId: string,
    deleteIds: string[],
    pick: TurnPick,
  ): Promise<TurnToStart | undefined> {
    await this.deps.store.deleteThreads(job.client, deleteIds);
    return pickTurn(job.client, groupId, pick);
  }

  /** Starts `row` and, while the turn started ends at once, the next queued ones, until one is left running. */
  async #startFrom(job: LockedJob, groupId: string, row: TurnToStart | undefined): Promise<void> {
    let next = row;
    while (next) {
      // the start step marks it running, committed before its checkpoint: if the step dies in
      // between, a retry finds the turn running without state and finishes starting it
      const turn = await this.#start(job, groupId, next);
      if (!turn?.ended) return;
      next = await this.#next(job, groupId, [next.id], "next");
    }
  }

  /** Feeds a turn its start event: the step marks it running, announces it and dispatches its first calls. */
  async #start(job: LockedJob, groupId: string, row: TurnToStart): Promise<TurnState | null> {
    this.deps.logger.info({ group_id: groupId, turn_id: row.id }, "turn starting");
    return this.#step(job, groupId, row.id, row.trace, {
      type: "start",
      turn_id: row.id,
      group_id: groupId,
      message: { id: row.message_id, content: row.content ?? "" },
      agents: row.agents,
      max_steps: this.deps.maxSteps,
    });
  }

  /**
   * Runs one graph step of a turn in a `turn.step` span, child of the request that began the turn
   * (`trace`, read with the turn row): the jobs the step adds carry this span on (effects.ts).
   */
  #step(
    job: LockedJob,
    groupId: string,
    turnId: string,
    trace: TraceCarrier | null | undefined,
    event: TurnEvent,
  ) {
    const attributes = {
      "synapse.group_id": groupId,
      "synapse.turn_id": turnId,
      "synapse.event": event.type,
      ...(event.type === "result" && {
        "synapse.dispatch_id": event.dispatch_id,
        "synapse.result": event.result.kind,
      }),
    };
    return inSpan("turn.step", { parent: trace, attributes }, () => runTurnStep(job.graph, turnId, event));
  }
}
