import { Redis, type RedisOptions } from "ioredis";

/**
 * An ioredis client for `url` (password and db number honoured). BullMQ needs
 * `maxRetriesPerRequest: null` on the connections it blocks on; pass `{ bullmq: true }` for those.
 * BullMQ connections go without auto-pipelining: each pipeline copies every script defined on the
 * connection, and BullMQ defines dozens.
 */
export function createRedis(url: string, opts: { bullmq?: boolean; name?: string } = {}): Redis {
  const options: RedisOptions = {
    lazyConnect: false,
    enableAutoPipelining: !opts.bullmq,
    ...(opts.bullmq ? { maxRetriesPerRequest: null } : {}),
    ...(opts.name ? { connectionName: opts.name } : {}),
  };
  const client = new Redis(url, options);
  // connection errors are retried by ioredis; keep them from crashing the process
  client.on("error", () => undefined);
  return client;
}

/**
 * A connection for sending jobs and frames, from a BullMQ connection (`createRedis(url, { bullmq:
 * true })`): no auto-pipelining (commands leave in call order), but it fails fast
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
