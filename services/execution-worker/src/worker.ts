import {
  type Config,
  createLogger,
  createQueue,
  createRedis,
  EXECUTION_QUEUE,
  type ExecutionResult,
  isFinalAttempt,
  isUnavailableError,
  jobIds,
  type LlmJob,
  type Logger,
  llmJobSchema,
  ORCHESTRATOR_QUEUE,
  type ResultJob,
  resultJobSchema,
  startHeartbeat,
  type ToolJob,
  toolJobSchema,
  workerOptions,
} from "@synapse/shared";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type pg from "pg";
import { CancelWatcher, TurnCancelledError } from "./cancel.ts";
import { runLlmJob } from "./llm.job.ts";
import { createProviderRegistry } from "./providers/registry.ts";
import type { BackoffOptions } from "./providers/retry.ts";
import type { ProviderFactory } from "./providers/types.ts";
import { runToolJob } from "./tool.job.ts";

/** The Redis connections of an execution worker; whoever makes them closes them. */
export interface WorkerRedis {
  /**
   * For BullMQ (`createRedis(url, { bullmq: true })`): jobs, results and token frames. It waits out
   * a Redis outage rather than failing a call that has finished (its retry would call the LLM again).
   */
  bullmq: Redis;
  /** Cancel-key reads and the heartbeat. */
  redis: Redis;
  /** Subscribed to the control channel, where cancels arrive. */
  subscriber: Redis;
}

/** Opens the connections of {@link WorkerRedis} on `url`; `close()` closes them. */
export function connectWorkerRedis(url: string): WorkerRedis & { close(): Promise<void> } {
  const connections = {
    bullmq: createRedis(url, { bullmq: true, name: "worker-bullmq" }),
    redis: createRedis(url, { name: "worker-status" }),
    subscriber: createRedis(url, { name: "worker-control" }),
  };
  return {
    ...connections,
    async close() {
      await Promise.all(Object.values(connections).map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}

/** What {@link startExecutionWorker} needs; it connects nothing by itself. */
export interface ExecutionWorkerDeps {
  config: Config;
  pool: pg.Pool;
  /** Its Redis connections, made by the caller ({@link connectWorkerRedis}). */
  connections: WorkerRedis;
  /** @defaultValue a pino logger from config (service "execution-worker") */
  logger?: Logger;
  /** Provider factories by name, winning over the built-ins (tests plug stubs in here). */
  providers?: Record<string, ProviderFactory>;
  /** @defaultValue config.WORKER_CONCURRENCY */
  concurrency?: number;
  /** Backoff between provider retries @defaultValue {baseMs: 500, maxMs: 8000} */
  backoff?: BackoffOptions;
  /** Clock of the current_time tool (tests). */
  now?: () => Date;
  /** Register in the heartbeat set read by `/ready`. @defaultValue true */
  heartbeat?: boolean;
}

/** A running execution worker. */
export interface ExecutionWorker {
  /** Drains: lets active jobs finish and stops listening for cancels; the connections stay open. */
  close(): Promise<void>;
}

/**
 * Starts BullMQ workers on the execution queue (`llm` and `tool` jobs) and resolves once they listen
 * and cancels are heard. Results go to the orchestrator queue as `result` jobs with id
 * `result:<dispatch_id>`, except for a cancelled turn, which gets nothing.
 */
export async function startExecutionWorker(deps: ExecutionWorkerDeps): Promise<ExecutionWorker> {
  const { config, pool } = deps;
  const { bullmq: bull, redis, subscriber } = deps.connections;
  const log = deps.logger ?? createLogger(config, "execution-worker");
  const prefix = config.QUEUE_PREFIX;

  const cancels = new CancelWatcher(subscriber, redis, prefix, log);
  await cancels.start();

  const results = createQueue<ResultJob>(ORCHESTRATOR_QUEUE, bull, config);
  const providers = createProviderRegistry(config, deps.providers);

  const reportFinalFailure = async (data: LlmJob | ToolJob) => {
    if (await cancels.isCancelled(data.turn_id)) return;
    const base = { alias: data.alias, agent_id: data.agent_id, message_id: data.message_id };
    const result: ExecutionResult =
      "tool_call" in data
        ? {
            kind: "tool",
            ok: true,
            ...base,
            tool_name: data.tool_call.name,
            tool_call_id: data.tool_call.id,
            content: `${data.tool_call.name} could not be run (internal error)`,
            is_error: true,
          }
        : {
            kind: "llm_error",
            ok: false,
            ...base,
            error: { code: "worker_error", detail: "the call failed on the worker" },
          };
    const payload = { group_id: data.group_id, turn_id: data.turn_id, dispatch_id: data.dispatch_id, result };
    await results.add("result", payload, { jobId: jobIds.result(data.dispatch_id) });
  };

  const process = async (job: Job): Promise<string> => {
    const started = Date.now();
    const parsed =
      job.name === "llm"
        ? llmJobSchema.safeParse(job.data)
        : job.name === "tool"
          ? toolJobSchema.safeParse(job.data)
          : undefined;
    if (!parsed) throw new UnrecoverableError(`unknown job name ${job.name}`);
    if (!parsed.success) {
      log.error({ job_id: job.id, job: job.name }, "malformed execution job dropped");
      throw new UnrecoverableError(`malformed ${job.name} job`);
    }
    const data = parsed.data;
    const jlog = log.child({
      group_id: data.group_id,
      turn_id: data.turn_id,
      job_id: job.id,
      job: job.name,
      attempt: job.attemptsMade + 1,
      alias: data.alias,
    });
    // register first, then read the turn's status (in the job's first query): a cancel, which ends
    // the turn in the database before it is announced, lands in one or the other
    const handle = cancels.track(data.turn_id);
    let outcome = "cancelled";
    try {
      let result: ExecutionResult;
      try {
        result =
          "tool_call" in data
            ? await runToolJob(data, handle.signal, { config, pool, now: deps.now })
            : await runLlmJob(
                data,
                handle.signal,
                // token frames go on the connection the result is added on (LlmJobDeps.redis)
                { config, pool, redis: bull, providers, backoff: deps.backoff },
                jlog,
              );
      } catch (err) {
        if (err instanceof TurnCancelledError || handle.signal.aborted) return outcome;
        throw err;
      }
      // a cancel missed while the control subscriber reconnected: the orchestrator drops the result
      if (handle.signal.aborted) return outcome;
      const payload = resultJobSchema.parse({
        group_id: data.group_id,
        turn_id: data.turn_id,
        dispatch_id: data.dispatch_id,
        result,
      });
      await results.add("result", payload, { jobId: jobIds.result(data.dispatch_id) });
      outcome =
        result.kind === "llm_error"
          ? "llm_error"
          : result.kind === "tool" && result.is_error
            ? "tool_error"
            : "ok";
      return outcome;
    } catch (err) {
      outcome = "failed";
      const message = err instanceof Error ? err.message : String(err);
      jlog.error({ err: message }, "execution job failed");
      // an outage (its DB reads, or Redis while `bull` reconnects) keeps the job retrying for minutes
      const outage = isUnavailableError(err) || bull.status !== "ready";
      if (!(err instanceof UnrecoverableError) && !isFinalAttempt(job, outage)) throw err;
      // last attempt: hand the orchestrator a failure it can show, rather than leaving the turn waiting
      await reportFinalFailure(data).catch((e) => jlog.error({ err: e }, "could not report the failure"));
      throw err instanceof UnrecoverableError ? err : new UnrecoverableError(message);
    } finally {
      handle.release();
      jlog.info({ outcome, ms: Date.now() - started }, "execution job finished");
    }
  };

  const worker = new Worker(
    EXECUTION_QUEUE,
    process,
    workerOptions(bull, prefix, deps.concurrency ?? config.WORKER_CONCURRENCY),
  );
  worker.on("error", (err) => log.error({ err: err.message }, "execution worker error"));
  await worker.waitUntilReady();
  const stopHeartbeat =
    deps.heartbeat === false ? async () => undefined : startHeartbeat(redis, prefix, "worker");
  log.info({ concurrency: deps.concurrency ?? config.WORKER_CONCURRENCY, prefix }, "execution worker ready");

  let closing: Promise<void> | undefined;
  return {
    close() {
      closing ??= (async () => {
        await worker.close();
        await stopHeartbeat();
        await cancels.stop();
        await results.close();
      })();
      return closing;
    },
  };
}
