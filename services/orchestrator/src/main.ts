import {
  createLogger,
  createPool,
  createRedis,
  loadConfigOrExit,
  redactUrl,
  requireUrls,
} from "@synapse/shared";
import { startOrchestrator } from "./worker.ts";

/** Composition root of the orchestrator process (`npm run start:orchestrator`). */
const config = loadConfigOrExit();
const logger = createLogger(config, "orchestrator");
const { databaseUrl, redisUrl } = (() => {
  try {
    return requireUrls(config);
  } catch (err) {
    process.stderr.write(`synapse: ${(err as Error).message}\n`);
    process.exit(2);
  }
})();

const pool = createPool(databaseUrl, {
  max: 2 * config.ORCHESTRATOR_CONCURRENCY + 4,
  applicationName: "synapse-orchestrator",
});
const redis = createRedis(redisUrl, { name: "synapse-orchestrator" });
const bullmq = createRedis(redisUrl, { bullmq: true, name: "synapse-orchestrator-bullmq" });
logger.info({ database: redactUrl(databaseUrl), redis: redactUrl(redisUrl) }, "orchestrator starting");

const orchestrator = await startOrchestrator({ config, pool, redis, bullmq, logger });

/** A drain waits for running steps; if Redis or PostgreSQL is gone it could wait forever. */
const DRAIN_DEADLINE_MS = 15_000;

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "orchestrator draining");
  const deadline = setTimeout(() => {
    logger.error(
      { ms: DRAIN_DEADLINE_MS },
      "drain did not finish in time; exiting (unfinished jobs are retried)",
    );
    process.exit(1);
  }, DRAIN_DEADLINE_MS);
  deadline.unref();
  try {
    await orchestrator.close();
  } finally {
    await pool.end().catch(() => undefined);
    redis.disconnect();
    bullmq.disconnect();
    process.exit(0);
  }
}
process.once("SIGINT", () => void shutdown("SIGINT"));
process.once("SIGTERM", () => void shutdown("SIGTERM"));
