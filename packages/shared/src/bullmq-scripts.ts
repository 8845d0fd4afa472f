import { createRequire } from "node:module";
import { type Job, type JobJson, type Processor, Worker, type WorkerOptions } from "bullmq";

/**
 * BullMQ's Lua scripts that take a job for a worker, with two changes: the queue's marker is
 * re-added only when jobs are left to take, and the reply says when the job taken was the last
 * ({@link JobWorker} then skips asking for another).
 *
 * BullMQ 6.7 re-adds the marker every time a job is taken (`prepareJobForProcessing`), so that
 * other blocked workers wake up for the jobs left, or learn when the next delayed job is due. When
 * no job is left, an idle worker that takes the only one wakes its own blocking call right away for
 * nothing: each pickup costs five Redis round trips (take, miss, wake, miss, block) instead of three
 * (take, miss, block). That matters here, where a turn is a chain of single jobs
 * (docs/library-notes.md).
 *
 * With the change, a worker blocked on the marker is still woken whenever a job is waiting: the
 * marker is added when a job is added (BullMQ's own scripts) and kept while jobs are left. With only
 * delayed jobs left, the delay marker is set instead, as BullMQ's `addDelayMarkerIfNeeded` sets it
 * (found in review: without it, a delayed job could wait for a blocked worker's timeout).
 *
 * The scripts are given to ioredis under the names BullMQ registers them with
 * (`<name>:<version>`); BullMQ defines a command only if the client lacks it, so these are used.
 * If BullMQ's files or the line patched have moved, nothing is replaced and BullMQ's own scripts
 * run (a test checks that the pinned version is patched).
 */
const require = createRequire(import.meta.url);

interface BullmqScript {
  name: string;
  content: string;
  keys: number;
}

/**
 * What the patched scripts return as a taken job's `delayUntil` (stock: 0) when it was the last job
 * to take; BullMQ reads any value below 1 as 0 ("no delay").
 */
const LAST_JOB = -1;

const STOCK = `  addBaseMarkerIfNeeded(markerKey, false)
  -- rate limit delay must be 0 in this case to prevent adding more delay
  -- when job that is moved to active needs to be processed
  return {rcall("HGETALL", jobKey), jobId, 0, 0} -- get job data
`;
const PATCHED = `  local left = 0
  if rcall("LLEN", keyPrefix .. "wait") > 0 or rcall("ZCARD", keyPrefix .. "prioritized") > 0 then
    addBaseMarkerIfNeeded(markerKey, false)
  else
    left = ${LAST_JOB}
    local nextDelayed = getNextDelayedTimestamp(keyPrefix .. "delayed")
    if nextDelayed ~= nil then
      rcall("ZADD", markerKey, nextDelayed, "1")
    end
  end
  return {rcall("HGETALL", jobKey), jobId, 0, left}
`;

let cached: Record<string, { lua: string; numberOfKeys: number }> | undefined;

/** The patched scripts, as ioredis `scripts` options (empty when BullMQ's source has changed). */
export function bullmqScripts(): Record<string, { lua: string; numberOfKeys: number }> {
  if (cached) return cached;
  cached = {};
  let version: string;
  let all: Record<string, BullmqScript>;
  try {
    ({ version } = require("bullmq/dist/cjs/version.js") as { version: string });
    all = require("bullmq/dist/cjs/scripts/index.js") as Record<string, BullmqScript>;
  } catch {
    return cached; // moved by an upgrade: BullMQ's own scripts run
  }
  for (const script of Object.values(all)) {
    const marker = script.content.indexOf("local function prepareJobForProcessing(");
    if (marker < 0) continue;
    const at = script.content.indexOf(STOCK, marker);
    if (at < 0) continue;
    const lua = script.content.slice(0, at) + PATCHED + script.content.slice(at + STOCK.length);
    cached[`${script.name}:${version}`] = { lua, numberOfKeys: script.keys };
  }
  return cached;
}

/** What {@link JobWorker} uses of BullMQ's private internals (bullmq 6.7, checked by a test). */
interface WorkerInternals {
  updateDelays(limitDelay?: number, delayUntil?: number): void;
  drained: boolean;
}

/**
 * A BullMQ `Worker` that, having taken the last job of its queue, goes straight back to its blocking
 * wait. Stock BullMQ asks for another job first (with concurrency > 1), and finds none: one Redis
 * round trip per job, and the Lua script behind it, for nothing. The patched scripts say when the
 * job taken was the last (`LAST_JOB`, in the `delayUntil` that BullMQ hands to `updateDelays` right
 * before `nextJobFromJobData`, whether the job came from `moveToActive` or with the previous job's
 * completion); a job added after that sets the marker the blocking wait returns on. Without the
 * patched scripts, or if an upgrade has moved `updateDelays`, it behaves as the stock worker. It
 * does not emit `drained` when it takes the last job (nothing here listens for that event).
 */
export class JobWorker extends Worker {
  #tookLast = false;

  constructor(name: string, processor: Processor | null, opts: WorkerOptions) {
    super(name, processor, opts);
    const internals = this as unknown as WorkerInternals;
    const updateDelays = internals.updateDelays;
    if (typeof updateDelays !== "function") return;
    internals.updateDelays = (limitDelay, delayUntil) => {
      this.#tookLast = delayUntil === LAST_JOB;
      updateDelays.call(this, limitDelay, delayUntil);
    };
  }

  protected override async nextJobFromJobData(
    jobData?: JobJson,
    jobId?: string,
    token?: string,
  ): Promise<Job> {
    const tookLast = this.#tookLast;
    this.#tookLast = false;
    const job = await super.nextJobFromJobData(jobData, jobId, token);
    if (job && tookLast) (this as unknown as WorkerInternals).drained = true;
    return job;
  }
}
