import {
  createLogger,
  createPool,
  createProducer,
  createRedis,
  loadServiceConfig,
  redactUrl,
  stopOnSignals,
} from "@synapse/shared";
import { applyRunTreeSkip } from "@synapse/shared/langchain-runtime";
import { startTelemetry } from "@synapse/shared/telemetry/start";
import { startOrchestrator } from "./orchestrator.ts";

/** Composition root of the orchestrator process (`npm run start:orchestrator`). */
const { config, databaseUrl, redisUrl } = loadServiceConfig();
const logger = createLogger(config, "orchestrator");
applyRunTreeSkip({ tracing: config.LANGSMITH_TRACING }, logger);

const pool = createPool(databaseUrl, {
  max: 2 * config.ORCHESTRATOR_CONCURRENCY + 4,
  applicationName: "synapse-orchestrator",
  logger,
});
const bullmq = createRedis(redisUrl, { bullmq: true, name: "synapse-orchestrator-bullmq" });
const producer = createProducer(bullmq, "synapse-orchestrator-producer");
logger.info({ database: redactUrl(databaseUrl), redis: redactUrl(redisUrl) }, "orchestrator starting");

const telemetry = await startTelemetry(config, "orchestrator", logger, { serve: true });
const orchestrator = await startOrchestrator({ config, pool, bullmq, producer, logger });

stopOnSignals(logger, async () => {
  try {
    await orchestrator.close(); // waits for running steps (the heartbeat stops with it)
  } finally {
    await pool.end().catch(() => undefined);
    producer.disconnect();
    bullmq.disconnect();
    await telemetry.close();
  }
});
