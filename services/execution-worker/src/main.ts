import { createLogger, createPool, loadServiceConfig, redactUrl, stopOnSignals } from "@synapse/shared";
import { applyRunTreeSkip } from "@synapse/shared/langchain-runtime";
import { startTelemetry } from "@synapse/shared/telemetry/start";
import { connectWorkerRedis, startExecutionWorker } from "./worker.ts";

/** Composition root of the execution-worker process (`npm run start:worker`). */
const { config, databaseUrl, redisUrl } = loadServiceConfig();
const logger = createLogger(config, "execution-worker");
applyRunTreeSkip({ tracing: config.LANGSMITH_TRACING }, logger);
// a stray rejection inside a client library must not take the worker (and its jobs) down
process.on("unhandledRejection", (err) => logger.error({ err: String(err) }, "unhandled rejection"));

const pool = createPool(databaseUrl, {
  max: Math.min(50, config.WORKER_CONCURRENCY + 4),
  applicationName: "synapse-worker",
  logger,
});
const telemetry = await startTelemetry(config, "worker", logger, { serve: true });
const connections = connectWorkerRedis(redisUrl);
const worker = await startExecutionWorker({ config, pool, connections, logger });
logger.info({ redis: redactUrl(redisUrl) }, "execution worker started");

stopOnSignals(logger, async () => {
  await worker.close(); // lets active jobs finish, leaves the heartbeat set
  await connections.close();
  await pool.end();
  await telemetry.close();
});
