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
