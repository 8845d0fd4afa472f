import {
  advanceJobSchema,
  type Config,
  createLogger,
  createQueue,
  EXECUTION_QUEUE,
  failJobSchema,
  isFinalAttempt,
  isUnavailableError,
  jobIds,
  type Logger,
  ORCHESTRATOR_QUEUE,
  RETRY_WINDOW_MS,
  resultJobSchema,
  startHeartbeat,
  workerOptions,
} from "@synapse/shared";
import { trackQueueDepth } from "@synapse/shared/telemetry/metrics";
import { DelayedError, type Job, type Queue, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type pg from "pg";
import { applyEffects, type EffectDeps } from "./graph/effects.ts";
import { buildTurnGraph } from "./graph/graph.ts";
import { graphStore } from "./graph/graph-store.ts";
import { TurnCheckpointSaver } from "./graph/pg-saver.ts";
import { ResultNotReadyError } from "./turn/errors.ts";
import { type SweepScope, startSweeper } from "./turn/sweeper.ts";
import { TurnRunner } from "./turn/turn-runner.ts";

export interface OrchestratorDeps {
  /**
   * Reads QUEUE_PREFIX, QUEUE_KEEP_COMPLETED / QUEUE_KEEP_FAILED (its queues), MAX_STEPS_PER_TURN,
   * ORCHESTRATOR_CONCURRENCY, TURN_STALL_TIMEOUT_MS (and logging).
   */
  config: Config;
  /**
   * PostgreSQL. A job holds one connection for the group lock (its reads and checkpoint run on it)
   * and uses one more for its step's writes: give it at least 2 × ORCHESTRATOR_CONCURRENCY + 2
   * connections.
   */
  pool: pg.Pool;
  /** Redis for BullMQ's worker (created with `createRedis(url, { bullmq: true })`). */
  bullmq: Redis;
  /**
   * Jobs, every frame of a turn and the heartbeat go out on it, in order, failing fast while Redis
   * is away (`createProducer(bullmq)`).
   */
  producer: Redis;
  logger?: Logger;
  /**
   * The checkpointer, on `pool`; by default a `TurnCheckpointSaver` (its tables come from the
   * migrations). Each job runs it on the connection of its transaction (`withClient`).
   * @defaultValue TurnCheckpointSaver
   */
  checkpointer?: TurnCheckpointSaver;
  /**
   * Time between sweeps; 0 turns automatic sweeps off (a sweep covers every group of the database:
   * in-process tests sharing one database should pass 0 and call `sweep({ groupIds })`).
   * @defaultValue 5000
   */
  sweepIntervalMs?: number;
  /** Register in the heartbeat set read by `/ready`. @defaultValue true */
  heartbeat?: boolean;
}

export interface Orchestrator {
  /** Runs a sweep now, over every group or only `scope.groupIds` (tests). */
  sweep(scope?: SweepScope): Promise<void>;
  /** Stops taking jobs, lets running ones finish, stops the sweeper and heartbeat. Leaves `pool` and the Redis clients it was given open. */
  close(): Promise<void>;
}

/**
 * Starts an orchestrator in this process: a BullMQ worker on the orchestrator queue running turn
 * steps through the graph (compiled once here), the sweeper and the heartbeat.
 */
export async function startOrchestrator(deps: OrchestratorDeps): Promise<Orchestrator> {
  const { config, pool } = deps;
  const prefix = config.QUEUE_PREFIX;
  const logger = deps.logger ?? createLogger(config, "orchestrator");
  const store = graphStore(deps.checkpointer ?? new TurnCheckpointSaver(pool), pool);

  const { producer } = deps;
  const executionQueue = createQueue(EXECUTION_QUEUE, producer, config);
  const orchestratorQueue = createQueue(ORCHESTRATOR_QUEUE, producer, config);
  await executionQueue.waitUntilReady();
  const untrack = [trackQueueDepth(executionQueue), trackQueueDepth(orchestratorQueue)];
  const effects: EffectDeps = { pool, redis: producer, prefix, executionQueue };
  const graph = buildTurnGraph({
    apply: (turn, list) => applyEffects(effects, turn, list),
  });
  const runner = new TurnRunner({
    pool,
    redis: producer,
    prefix,
    graph,
    store,
    maxSteps: config.MAX_STEPS_PER_TURN,
    logger,
  });

  // the producer fails fast while Redis is away, with errors that carry no code: its state says why
  const outage = (err: unknown) => isUnavailableError(err) || producer.status !== "ready";
  const worker = new Worker(
    ORCHESTRATOR_QUEUE,
    (job: Job, token?: string) => processJob(runner, logger, outage, job, token),
    workerOptions(deps.bullmq, prefix, config.ORCHESTRATOR_CONCURRENCY),
  );
  worker.on("error", (err) => logger.error({ err }, "orchestrator worker error"));
  worker.on("failed", (job, err) => {
    if (job) void onFailed(orchestratorQueue, logger, job, err);
  });

  const sweeper = startSweeper({
    pool,
    runner,
    store,
    orchestratorQueue,
    intervalMs: deps.sweepIntervalMs,
    stallMs: config.TURN_STALL_TIMEOUT_MS,
    logger,
  });
  const stopHeartbeat =
    deps.heartbeat === false ? async () => undefined : startHeartbeat(producer, prefix, "orchestrator");
  logger.info({ prefix, concurrency: config.ORCHESTRATOR_CONCURRENCY }, "orchestrator started");

  return {
    sweep: (scope) => sweeper.sweep(scope),
    async close() {
      await sweeper.stop();
      await worker.close();
      await stopHeartbeat();
      for (const stop of untrack) stop();
      await Promise.all([executionQueue.close(), orchestratorQueue.close()]);
      logger.info("orchestrator stopped");
    },
  };
}

/** How long a result may wait for the retry of the step that dispatched its call (then the stall sweeper decides). */
// the dispatching step may be retried through an outage for as long as any job is: wait that long,
// and a minute more for the attempts themselves
const EARLY_RESULT_WAIT_MS = RETRY_WINDOW_MS + 60_000;
const EARLY_RESULT_RETRY_MS = 250;

async function processJob(
  runner: TurnRunner,
  logger: Logger,
  outage: (err: unknown) => boolean,
  job: Job,
  token: string | undefined,
): Promise<void> {
  const started = performance.now();
  const fields: Record<string, unknown> = { job_id: job.id, job: job.name, attempt: job.attemptsMade + 1 };
  let status = "failed";
  try {
    switch (job.name) {
      case "advance": {
        const data = parse(advanceJobSchema, job);
        fields.group_id = data.group_id;
        await runner.advance(data.group_id);
        break;
      }
      case "result": {
        const data = parse(resultJobSchema, job);
        Object.assign(fields, {
          group_id: data.group_id,
          turn_id: data.turn_id,
          dispatch_id: data.dispatch_id,
        });
        await runner.onResult(data);
        break;
      }
      case "fail": {
        const data = parse(failJobSchema, job);
        Object.assign(fields, { group_id: data.group_id, turn_id: data.turn_id });
        await runner.failTurn(data.group_id, data.turn_id, "failed");
        break;
      }
      default:
        throw new UnrecoverableError(`unknown orchestrator job "${job.name}"`);
    }
    status = "done";
  } catch (err) {
    if (err instanceof ResultNotReadyError && token && Date.now() - job.timestamp < EARLY_RESULT_WAIT_MS) {
      // not a failure: wait for the step that dispatched the call (no attempt is used up)
      status = "deferred";
      await job.moveToDelayed(Date.now() + EARLY_RESULT_RETRY_MS, token);
      throw new DelayedError();
    }
    fields.err = err;
    // an outage keeps the job retrying for minutes; anything else gives up after a few attempts
    if (!(err instanceof UnrecoverableError) && isFinalAttempt(job, outage(err)))
      throw new UnrecoverableError(err instanceof Error ? err.message : String(err));
    throw err;
  } finally {
    const ms = Math.round((performance.now() - started) * 100) / 100;
    if (status === "done" || status === "deferred")
      logger.debug({ ...fields, ms, status }, "orchestrator job done");
    else logger.warn({ ...fields, ms }, "orchestrator job failed");
  }
}

function parse<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } },
  job: Job,
): T {
  const parsed = schema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`malformed ${job.name} job`);
  return parsed.data;
}

const failedJobIds = advanceJobSchema.extend({ turn_id: resultJobSchema.shape.turn_id.nullish() });

/**
 * A job that failed for good (attempts used up, or stalled too often) ends its turn with `error`
 * through a `fail` job: the database that made it fail may still be away, and the `fail` job
 * retries until it answers. A `fail` job that gives up leaves the turn to the stall sweep.
 */
async function onFailed(queue: Queue, logger: Logger, job: Job, err: Error): Promise<void> {
  try {
    if ((await job.getState()) !== "failed") return;
    const ids = failedJobIds.safeParse(job.data);
    if (!ids.success || !job.id) return;
    const groupId = ids.data.group_id;
    const turnId = job.name === "result" || job.name === "fail" ? (ids.data.turn_id ?? null) : null;
    const fields = { job_id: job.id, job: job.name, group_id: groupId, turn_id: turnId, err };
    if (job.name === "fail") {
      logger.error(fields, "could not end the turn of a failed job; the stall sweep will");
      return;
    }
    logger.error(fields, "orchestrator job gave up");
    await queue.add("fail", { group_id: groupId, turn_id: turnId }, { jobId: jobIds.fail(job.id) });
  } catch (e) {
    logger.error({ job_id: job.id, err: e }, "could not hand the turn of a failed job to a fail job");
  }
}
