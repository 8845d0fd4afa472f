/**
 * A minimal gateway process serving only `/ws/:group_id`, for the multi-process test and the
 * benchmark: `tsx gateway-process.ts` with DATABASE_URL, REDIS_URL, QUEUE_PREFIX, SECRET_KEY in the
 * environment. Prints `{"port":N}` on stdout once listening; over IPC, answers "memory" with
 * `process.memoryUsage()` (after a full GC when run with --expose-gc); exits cleanly on SIGTERM.
 */
import websocket from "@fastify/websocket";
import { createLogger, createPool, createRedis, loadConfig, requireUrls } from "@synapse/shared";
import Fastify from "fastify";
import { registerWebSocket, websocketPluginOptions } from "../../src/ws/index.ts";

const config = loadConfig();
const { databaseUrl, redisUrl } = requireUrls(config);
const logger = createLogger(config, "ws-gateway-process");
const pool = createPool(databaseUrl, { max: 10, applicationName: "ws-gateway-process" });
const redis = createRedis(redisUrl);
const subscriber = createRedis(redisUrl);
const app = Fastify({ logger: false });
await app.register(websocket, websocketPluginOptions(logger));
const closeWs = await registerWebSocket(app, { config, pool, redis, subscriber, logger });
await app.listen({ host: "127.0.0.1", port: 0 });
const address = app.server.address();
const port = typeof address === "object" && address ? address.port : 0;
process.stdout.write(`${JSON.stringify({ port })}\n`);

process.on("message", (msg) => {
  if (msg !== "memory") return;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  process.send?.({ memory: process.memoryUsage() });
});

process.once("SIGTERM", () => {
  void (async () => {
    await closeWs();
    await app.close();
    redis.disconnect();
    subscriber.disconnect();
    await pool.end();
    process.exit(0);
  })();
});
