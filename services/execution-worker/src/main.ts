import {
  createLogger,
  createPool,
  createRedis,
  loadConfigOrExit,
  redactUrl,
  requireUrls,
  startHeartbeat,
} from "@synapse/shared";
import { startExecutionWorker } from "./worker.ts";

/** Composition root of the execution-worker process (`npm run start:worker`). */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const { databaseUrl, redisUrl } = requireUrls(config);
  const log = createLogger(config, "execution-worker");
  const pool = createPool(databaseUrl, {
    max: Math.min(50, config.WORKER_CONCURRENCY + 4),
    applicationName: "synapse-worker",
  });
  const redis = createRedis(redisUrl, { name: "worker-heartbeat" });
  const worker = await startExecutionWorker({ config, pool, redisUrl, logger: log });
  const stopHeartbeat = startHeartbeat(redis, config.QUEUE_PREFIX, "worker");
  log.info({ redis: redactUrl(redisUrl) }, "execution worker started");

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      log.warn({ signal }, "second signal: exiting without draining");
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, "draining: waiting for active jobs");
    try {
      await worker.close();
      await stopHeartbeat();
      await redis.quit().catch(() => undefined);
      await pool.end();
      log.info("execution worker stopped");
      process.exit(0);
    } catch (err) {
      log.error({ err: String(err) }, "shutdown failed");
      process.exit(1);
    }
  };
  // a stray rejection inside a client library must not take the worker (and its jobs) down
  process.on("unhandledRejection", (err) => log.error({ err: String(err) }, "unhandled rejection"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch((err: unknown) => {
  process.stderr.write(`synapse execution-worker: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
