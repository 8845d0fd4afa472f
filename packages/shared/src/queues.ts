import { type ConnectionOptions, type DefaultJobOptions, Queue, type WorkerOptions } from "bullmq";
import { z } from "zod";
import type { Config } from "./config.ts";
import { retryDelayMs, retryPolicy } from "./job-retry.ts";
import { wellFormed } from "./text.ts";

/** BullMQ queue names; every process uses `QUEUE_PREFIX` as the BullMQ `prefix`. */
export const ORCHESTRATOR_QUEUE = "orchestrator";
export const EXECUTION_QUEUE = "execution";

const uuid = z.uuid();

export const toolCallSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  args: z.record(z.string(), z.unknown()),
});

export const usageSchema = z.object({
  input_tokens: z.number().int().min(0),
  output_tokens: z.number().int().min(0),
});

/** Orchestrator job `advance`: start the group's oldest queued turn if none is running. */
export const advanceJobSchema = z.object({ group_id: uuid });

/** What every execution job carries: the call's turn, dispatch and agent. */
const executionJobBase = z.object({
  group_id: uuid,
  turn_id: uuid,
  dispatch_id: z.string().min(1),
  agent_id: uuid,
  alias: z.string(),
  message_id: uuid,
  /** The dispatching step's trace context (W3C `traceparent`), present only when tracing is on. */
  trace: z.record(z.string(), z.string()).optional(),
});

/**
 * Orchestrator job `fail`: an orchestrator job gave up; end its turn (`turn_id`, or whichever turn of
 * the group is running when null) with `error`, with retries of its own, once the database answers.
 */
export const failJobSchema = z.object({ group_id: uuid, turn_id: uuid.nullable() });

/** Execution job `llm`: one LLM call of one agent. Its reply will be stored under `message_id`. */
export const llmJobSchema = executionJobBase.extend({
  /**
   * The context is the group's messages with seq <= until_seq (the group's last seq when the call
   * was dispatched), but those that began turns still queued: agents dispatched together do not see
   * each other's answers, and a retry sees exactly what the first attempt saw.
   */
  until_seq: z.number().int().min(0),
});

/** Execution job `tool`: one tool call made by agent `alias`. Its result is stored under `message_id`. */
export const toolJobSchema = executionJobBase.extend({ tool_call: toolCallSchema });

/** What an execution job hands back to the orchestrator. */
export const executionResultSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("llm"),
    ok: z.literal(true),
    alias: z.string(),
    agent_id: uuid,
    message_id: uuid,
    content: z.string(),
    tool_calls: z.array(toolCallSchema),
    usage: usageSchema,
  }),
  z.object({
    kind: z.literal("llm_error"),
    ok: z.literal(false),
    alias: z.string(),
    agent_id: uuid,
    message_id: uuid,
    error: z.object({ code: z.string(), detail: z.string() }),
  }),
  z.object({
    kind: z.literal("tool"),
    ok: z.literal(true),
    /** the agent that called the tool */
    alias: z.string(),
    agent_id: uuid,
    message_id: uuid,
    tool_name: z.string(),
    tool_call_id: z.string(),
    content: z.string(),
    is_error: z.boolean(),
  }),
]);

/**
 * Orchestrator job `result`: one execution result for a dispatch of a turn. Its text comes from an
 * LLM or a tool and may hold lone surrogates (a reply or an output cut mid-character): parsing
 * replaces them, so whatever the orchestrator stores fits every `jsonb` column.
 */
export const resultJobSchema = z.object({
  group_id: uuid,
  turn_id: uuid,
  dispatch_id: z.string().min(1),
  result: executionResultSchema.transform(wellFormed),
});

export type AdvanceJob = z.infer<typeof advanceJobSchema>;
export type FailJob = z.infer<typeof failJobSchema>;
export type LlmJob = z.infer<typeof llmJobSchema>;
export type ToolJob = z.infer<typeof toolJobSchema>;
export type ExecutionResult = z.infer<typeof executionResultSchema>;
export type ResultJob = z.infer<typeof resultJobSchema>;

/**
 * Deterministic job ids: adding the same job twice is a no-op while the first is retained.
 * No ':' in them: BullMQ 6 refuses custom ids with one ("Custom Id cannot contain :").
 */
export const jobIds = {
  llm: (dispatchId: string) => `llm-${dispatchId}`,
  tool: (dispatchId: string) => `tool-${dispatchId}`,
  result: (dispatchId: string) => `result-${dispatchId}`,
  /** The `fail` job that ends the turn of orchestrator job `jobId`, which gave up. */
  fail: (jobId: string) => `fail-${jobId}`,
} as const;

/** Retries of every job; queues add the configured retention ({@link jobOptions}). */
export const defaultJobOptions: DefaultJobOptions = {
  attempts: retryPolicy.attempts,
  backoff: { type: retryPolicy.backoffType, delay: retryPolicy.baseMs },
};

/** The settings that size a queue's history of finished jobs. */
export type JobRetention = Pick<Config, "QUEUE_KEEP_COMPLETED" | "QUEUE_KEEP_FAILED">;

/**
 * {@link defaultJobOptions} with the configured retention: each queue keeps its last
 * `QUEUE_KEEP_COMPLETED` completed and `QUEUE_KEEP_FAILED` failed jobs, so Redis does not grow
 * with every turn.
 *
 * A removed job no longer deduplicates a later add of its id; that is safe because every consumer
 * is idempotent. A `result` job completes only once its dispatch is recorded in the turn's state
 * (`handled`) or its turn has ended or is gone, so a repeat is ignored by the router or dropped
 * with the turn. An `llm` or `tool` job re-added by a step retried after a crash repeats its call,
 * whose result is such a repeat: nothing is stored twice. Only finished jobs are removed (waiting,
 * delayed and active ones stay), so a repeat needs a queue to complete more jobs than it keeps
 * within a retry's window (seconds), and costs a repeated call, never a wrong turn.
 */
export function jobOptions(retention: JobRetention): DefaultJobOptions {
  return {
    ...defaultJobOptions,
    removeOnComplete: { count: retention.QUEUE_KEEP_COMPLETED },
    removeOnFail: { count: retention.QUEUE_KEEP_FAILED },
  };
}

/** A queue of this deployment: its prefix, and every job added with {@link jobOptions}. */
export function createQueue<T = unknown>(
  name: string,
  connection: ConnectionOptions,
  config: JobRetention & Pick<Config, "QUEUE_PREFIX">,
): Queue<T> {
  return new Queue<T>(name, {
    connection,
    prefix: config.QUEUE_PREFIX,
    defaultJobOptions: jobOptions(config),
  });
}

/**
 * Worker settings shared by both services: a crashed process's job is stalled after `lockDuration`
 * and picked up by the next stalled check, so work resumes within ~15 s of a live worker existing.
 * Retries wait as `retryDelayMs` says (job-retry.ts).
 */
export function workerOptions(
  connection: ConnectionOptions,
  prefix: string,
  concurrency: number,
): WorkerOptions {
  return {
    connection,
    prefix,
    concurrency,
    lockDuration: 10_000,
    stalledInterval: 5_000,
    maxStalledCount: 3,
    settings: { backoffStrategy: (attemptsMade: number) => retryDelayMs(attemptsMade) },
  };
}
