import { createLogger, createPool, loadConfig, ORCHESTRATOR_QUEUE } from "@synapse/shared";
import type { Queue } from "bullmq";
import { Redis } from "ioredis";
import { buildApp } from "../../services/api-gateway/src/app.ts";

/**
 * The gateway's OpenAPI document, from an app built in-process: the same `/openapi.json` a
 * running gateway serves. Nothing is dialled but the WebSocket hub's subscriber, which retries
 * quietly until the app closes; no request is ever served, so no service needs to be up.
 */
export async function openApiSpec(): Promise<Record<string, unknown>> {
  const config = loadConfig(
    {
      NODE_ENV: "test",
      LOG_LEVEL: "silent",
      DATABASE_URL: "postgres://127.0.0.1:9/unused",
      REDIS_URL: "redis://127.0.0.1:9",
      SECRET_KEY: "openapi-generation-only-0123456789",
    },
    "/nonexistent-dir-for-dotenv",
  );
  const pool = createPool(config.DATABASE_URL!);
  // never connected: no route is called, and no socket subscribes
  const redis = new Redis(config.REDIS_URL!, { lazyConnect: true });
  const subscriber = new Redis(config.REDIS_URL!, { lazyConnect: true });
  // routes only add jobs while serving requests, and none is served here
  const orchestratorQueue = { name: ORCHESTRATOR_QUEUE } as Queue;
  const app = await buildApp({
    config,
    pool,
    redis,
    subscriber,
    logger: createLogger(config, "openapi"),
    orchestratorQueue,
  });
  try {
    const res = await app.inject({ method: "GET", url: "/openapi.json" });
    if (res.statusCode !== 200) throw new Error(`/openapi.json answered ${res.statusCode}: ${res.body}`);
    return res.json();
  } finally {
    await app.close();
    redis.disconnect();
    subscriber.disconnect();
    await pool.end();
  }
}
