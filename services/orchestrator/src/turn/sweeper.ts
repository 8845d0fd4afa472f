import { randomUUID } from "node:crypto";
import { idleGroupsWithQueuedTurns, type Logger, stalledTurns } from "@synapse/shared";
import type { Queue } from "bullmq";
import type pg from "pg";
import type { GraphStore } from "../graph/graph-store.ts";
import type { TurnRunner } from "./turn-runner.ts";

export interface SweeperOptions {
  pool: pg.Pool;
  runner: TurnRunner;
  store: GraphStore;
  /** Where `advance` jobs go. */
  orchestratorQueue: Queue;
  /**
   * Time between sweeps; 0 turns automatic sweeps off (tests sharing a database call `sweep()`
   * with a scope instead, since a sweep otherwise covers every group of the database).
   * @defaultValue 5000
   */
  intervalMs?: number;
  /** A running turn with no progress for this long ends with `error` (TURN_STALL_TIMEOUT_MS). */
  stallMs: number;
  /** Graph state of ended or deleted turns is collected every this many sweeps. @defaultValue 12 */
  gcEvery?: number;
  logger: Logger;
}

export interface SweepScope {
  groupIds?: string[];
}

export interface Sweeper {
  /** Runs one sweep now (what the timer does), over every group or only `scope.groupIds`. */
  sweep(scope?: SweepScope): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The orchestrator's safety net, run at start and every few seconds in every orchestrator process
 * (each action is idempotent and taken under the group lock):
 * - a queued turn in a group with no running turn gets an `advance` (a gateway that died between
 *   its commit and its enqueue, or an `advance` that failed, loses nothing);
 * - a running turn with no progress for `stallMs` ends with `error` and a visible notice;
 * - graph state left behind by turns that ended or were deleted is removed.
 */
export function startSweeper(opts: SweeperOptions): Sweeper {
  const { pool, runner, orchestratorQueue, logger } = opts;
  const intervalMs = opts.intervalMs ?? 5000;
  const gcEvery = opts.gcEvery ?? 12;
  let count = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  async function sweepOnce(scope: SweepScope = {}): Promise<void> {
    const groups = scope.groupIds ?? null;
    const waiting = await idleGroupsWithQueuedTurns(pool, groups);
    if (waiting.length > 0) {
      await orchestratorQueue.addBulk(
        waiting.map((groupId) => ({
          name: "advance",
          data: { group_id: groupId },
          opts: { jobId: randomUUID() },
        })),
      );
      logger.info({ groups: waiting.length }, "sweeper advanced idle groups");
    }
    const stalled = await stalledTurns(pool, opts.stallMs, groups);
    for (const t of stalled) await runner.failTurn(t.group_id, t.id, "stalled", { staleForMs: opts.stallMs });
    if (count++ % gcEvery === 0) await opts.store.collect();
  }

  async function tick(scope?: SweepScope): Promise<void> {
    try {
      await sweepOnce(scope);
    } catch (err) {
      logger.error({ err }, "sweep failed");
    }
  }

  function schedule(): void {
    if (stopped || intervalMs === 0) return;
    timer = setTimeout(() => {
      running = tick().finally(schedule);
    }, intervalMs);
    timer.unref();
  }

  if (intervalMs > 0) running = tick().finally(schedule);
  return {
    sweep: (scope) => {
      running = running.then(() => tick(scope));
      return running;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
