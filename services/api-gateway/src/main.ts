import {
  createLogger,
  createPool,
  createRedis,
  defaultJobOptions,
  loadConfigOrExit,
  ORCHESTRATOR_QUEUE,
  redactUrl,
  requireUrls,
  startHeartbeat,
} from "@synapse/shared";
import { Queue } from "bullmq";
import { buildApp } from "./app.ts";

/** Composition root of the API gateway (`npm run start:gateway`). */
const config = loadConfigOrExit();
const logger = createLogger(config, "gateway");
const { databaseUrl, redisUrl } = requireUrls(config);

const pool = createPool(databaseUrl, { applicationName: "synapse-gateway" });
const redis = createRedis(redisUrl, { name: "synapse-gateway" });
const queueConnection = createRedis(redisUrl, { bullmq: true, name: "synapse-gateway-queue" });
const orchestratorQueue = new Queue(ORCHESTRATOR_QUEUE, {
  connection: queueConnection,
  prefix: config.QUEUE_PREFIX,
  defaultJobOptions,
});

const app = await buildApp({ config, pool, redis, logger, orchestratorQueue });
const address = await app.listen({ host: config.HOST, port: config.PORT });
const stopHeartbeat = startHeartbeat(redis, config.QUEUE_PREFIX, "gateway");
logger.info(
  { url: address, docs: `${address}/docs`, database: redactUrl(databaseUrl), redis: redactUrl(redisUrl) },
  `api gateway listening on ${address}`,
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "api gateway stopping");
  const force = setTimeout(() => {
    logger.error("shutdown took too long; exiting");
    process.exit(1);
  }, 15_000);
  force.unref();
  try {
    await app.close(); // stops accepting, drains requests, closes the WebSocket part
    await stopHeartbeat();
    await orchestratorQueue.close();
    queueConnection.disconnect();
    await redis.quit();
    await pool.end();
    logger.info("api gateway stopped");
    process.exit(0);
  } catch (err) {
    logger.error({ err }, "error during shutdown");
    process.exit(1);
  }
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
