import { Redis, type RedisOptions } from "ioredis";
import { bullmqScripts } from "./bullmq-scripts.ts";

/**
 * An ioredis client for `url` (password and db number honoured). BullMQ needs
 * `maxRetriesPerRequest: null` on the connections it blocks on; pass `{ bullmq: true }` for those
 * (they also get BullMQ's job-taking scripts with fewer wake-ups: bullmq-scripts.ts).
 */
export function createRedis(url: string, opts: { bullmq?: boolean; name?: string } = {}): Redis {
  const options: RedisOptions = {
    lazyConnect: false,
    enableAutoPipelining: !opts.bullmq,
    ...(opts.bullmq ? { maxRetriesPerRequest: null, scripts: bullmqScripts() } : {}),
    ...(opts.name ? { connectionName: opts.name } : {}),
  };
  const client = new Redis(url, options);
  // connection errors are retried by ioredis; keep them from crashing the process
  client.on("error", () => undefined);
  return client;
}

/**
 * A connection for sending jobs and frames, from a BullMQ connection (`createRedis(url, { bullmq:
 * true })`): the same scripts, no auto-pipelining (commands leave in call order), but it fails fast
 * while Redis is away (no offline queue) or stops answering (10 s), where BullMQ's own connections
 * wait for as long as it takes. A step that holds a lock then fails and is retried instead of waiting.
 * Nothing can be sent on it before it is ready (a Queue's `waitUntilReady()` waits for that). Not
 * for workers: their blocking wait for jobs must not time out.
 */
export function createProducer(bullmq: Redis, name?: string): Redis {
  const client = bullmq.duplicate({
    enableOfflineQueue: false,
    commandTimeout: 10_000,
    ...(name ? { connectionName: name } : {}),
  });
  client.on("error", () => undefined);
  return client;
}

/**
 * Holds back what is sent on `redis` until this pass of the event loop has run its pending callbacks
 * (`setImmediate`), so that commands sent meanwhile — synchronously or after awaits that need no I/O,
 * such as a BullMQ `add` — leave in one write. On this machine a loopback write costs about as much
 * CPU as Redis spends on the command (docs/library-notes.md). Only for commands whose replies are
 * awaited after the current synchronous code; order on the connection is unchanged. Whatever else
 * uses the connection meanwhile (on a BullMQ connection: lock renewals, other jobs' completions)
 * waits for the same pass.
 */
export function batchWrites(redis: Redis): void {
  const stream = (redis as unknown as { stream?: { cork(): void; uncork(): void; writableCorked?: number } })
    .stream;
  if (!stream || typeof stream.cork !== "function" || stream.writableCorked) return;
  stream.cork();
  setImmediate(() => stream.uncork());
}
