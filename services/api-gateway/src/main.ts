import {
  createLogger,
  createPool,
  createQueue,
  createRedis,
  loadServiceConfig,
  ORCHESTRATOR_QUEUE,
  redactUrl,
  startHeartbeat,
  stopOnSignals,
} from "@synapse/shared";
import { startTelemetry } from "@synapse/shared/telemetry/start";
import { buildApp } from "./app.ts";

/** Composition root of the API gateway (`npm run start:gateway`). */
const { config, databaseUrl, redisUrl } = loadServiceConfig();
const logger = createLogger(config, "gateway");

const telemetry = await startTelemetry(config, "gateway", logger, { serve: false });
const pool = createPool(databaseUrl, { applicationName: "synapse-gateway", logger });
const redis = createRedis(redisUrl, { name: "synapse-gateway" });
const subscriber = createRedis(redisUrl, { name: `${config.QUEUE_PREFIX}-gateway-ws` });
const queueConnection = createRedis(redisUrl, { bullmq: true, name: "synapse-gateway-queue" });
const orchestratorQueue = createQueue(ORCHESTRATOR_QUEUE, queueConnection, config);

const app = await buildApp({ config, pool, redis, subscriber, logger, orchestratorQueue });
const address = await app.listen({ host: config.HOST, port: config.PORT });
const stopHeartbeat = startHeartbeat(redis, config.QUEUE_PREFIX, "gateway");
logger.info(
  { url: address, docs: `${address}/docs`, database: redactUrl(databaseUrl), redis: redactUrl(redisUrl) },
  `api gateway listening on ${address}`,
);

stopOnSignals(logger, async () => {
  await app.close(); // stops accepting, drains requests, closes the WebSocket part
  await stopHeartbeat();
  await orchestratorQueue.close();
  queueConnection.disconnect();
  await Promise.all([redis.quit(), subscriber.quit()]);
  await pool.end();
  await telemetry.close();
});
