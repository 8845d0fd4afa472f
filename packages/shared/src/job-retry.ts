import type { Job } from "bullmq";

/**
 * How every job of both queues is retried. An outage of PostgreSQL or Redis must not use a job up:
 * its attempts are spread over minutes with a capped exponential backoff, so a job is tried again
 * within `RETRY_CAP_MS` of the dependency's return. Any other failure (a bug, a bad row) gives up
 * after `OTHER_FAILURE_ATTEMPTS`, a few seconds, as before.
 */
export const retryPolicy = {
  /** The backoff type named in the job options; the workers' `backoffStrategy` serves it. */
  backoffType: "capped-exponential",
  /** The first retry's delay, doubled each retry up to `capMs`. */
  baseMs: 200,
  /** The longest wait between two attempts. */
  capMs: 10_000,
  /** Attempts of a job that keeps meeting an outage: 19 waits, 142.6 s in all. */
  attempts: 20,
  /** Attempts of a job failing for any other reason: 4 waits, 3 s in all. */
  otherFailureAttempts: 5,
} as const;

/** The wait before the retry that follows `attemptsMade` failed attempts. */
export function retryDelayMs(attemptsMade: number): number {
  return Math.min(retryPolicy.baseMs * 2 ** Math.max(0, attemptsMade - 1), retryPolicy.capMs);
}

/** How long a job keeps being retried through an outage: the sum of its waits between attempts. */
export const RETRY_WINDOW_MS = Array.from({ length: retryPolicy.attempts - 1 }, (_, i) =>
  retryDelayMs(i + 1),
).reduce((sum, ms) => sum + ms, 0);

/**
 * Whether the attempt of `job` that failed now is its last: its attempts are used up, or it did not
 * fail for an outage (`outage` false) and has had `otherFailureAttempts`. A processor then throws
 * an `UnrecoverableError` (BullMQ retries nothing after it) and hands the failure on.
 */
export function isFinalAttempt(job: Job, outage: boolean): boolean {
  const attempt = job.attemptsMade + 1;
  return attempt >= (job.opts.attempts ?? 1) || (!outage && attempt >= retryPolicy.otherFailureAttempts);
}
