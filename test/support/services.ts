import { randomUUID } from "node:crypto";
import { type Config, createPool, createRedis, loadConfig } from "@synapse/shared";
import type { Redis } from "ioredis";
import type pg from "pg";
import { inject } from "vitest";

/** URLs of the run's PostgreSQL and Redis, started by test/global-setup.ts. */
export function testUrls(): { databaseUrl: string; redisUrl: string } {
  return { databaseUrl: inject("databaseUrl"), redisUrl: inject("redisUrl") };
}

/** A unique BullMQ/pub-sub prefix, so concurrent test files never see each other's jobs. */
export function uniquePrefix(): string {
  return `test-${randomUUID().slice(0, 8)}`;
}

/** A Config for tests: real service URLs, a unique queue prefix, overrides applied. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  const { databaseUrl, redisUrl } = testUrls();
  return loadConfig(
    {
      NODE_ENV: "test",
      LOG_LEVEL: "silent",
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      SECRET_KEY: "test-secret-key-that-is-long-enough-0123456789",
      QUEUE_PREFIX: uniquePrefix(),
      // the demo provider streams at once: its pacing is for people, not for tests
      DEMO_WORD_DELAY_MS: "0",
      ...overrides,
    },
    "/nonexistent-dir-for-dotenv",
  );
}

export interface TestResources {
  pool: pg.Pool;
  redis: Redis;
  /** A connection for a gateway's WebSocket part to subscribe on. */
  subscriber: Redis;
  close(): Promise<void>;
}

export function testResources(): TestResources {
  const { databaseUrl, redisUrl } = testUrls();
  const pool = createPool(databaseUrl, { max: 10 });
  const redis = createRedis(redisUrl);
  const subscriber = createRedis(redisUrl);
  return {
    pool,
    redis,
    subscriber,
    async close() {
      await pool.end();
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}
