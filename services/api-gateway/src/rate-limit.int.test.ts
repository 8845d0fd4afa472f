import { createLogger } from "@synapse/shared";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../scripts/lib/local-services.ts";
import { buildApp } from "./app.ts";
import type { App } from "./deps.ts";
import { type TestGateway, type TestUser, testGateway } from "./test-helpers.ts";

let gw: TestGateway;
let owner: TestUser;
let groupId: string;
beforeAll(async () => {
  gw = await testGateway({ RATE_LIMIT_MESSAGES_PER_MINUTE: "2" });
  owner = await gw.user();
  groupId = (await gw.group(owner)).id;
});
afterAll(async () => {
  await gw?.close();
});

/** Another gateway instance on the same config and PostgreSQL, with its own Redis client. */
async function secondGateway(redis: Redis): Promise<App> {
  const app = await buildApp({
    config: gw.config,
    pool: gw.pool,
    redis,
    logger: createLogger(gw.config, "gateway-test"),
    orchestratorQueue: gw.queue,
  });
  await app.ready();
  return app;
}

const post = (app: App, user: TestUser, group = groupId) =>
  app.inject({
    method: "POST",
    url: `/groups/${group}/messages`,
    headers: { authorization: `Bearer ${user.token}` },
    payload: { content: "hi" },
  });

describe("the message rate limit", () => {
  it("counts per user in one Redis key with a one-minute window, shared by every gateway", async () => {
    const user = await gw.user();
    const g = await gw.group(user);
    const redis = new Redis(gw.config.REDIS_URL!);
    const other = await secondGateway(redis);
    try {
      expect((await post(gw.app, user, g.id)).statusCode).toBe(202);
      expect((await post(other, user, g.id)).statusCode).toBe(202);
      const key = `${gw.config.QUEUE_PREFIX}:ratelimit:messages:${user.id}`;
      expect(await gw.redis.get(key)).toBe("2");
      const ttl = await gw.redis.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);

      const res = await post(other, user, g.id);
      expect(res.statusCode).toBe(429);
      expect(res.json()).toEqual({
        detail: expect.stringMatching(/^too many requests; retry in \d+ s$/),
        code: "rate_limited",
      });
      const retryAfter = Number(res.headers["retry-after"]);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);

      // a new window starts once the key has expired
      await gw.redis.del(key);
      expect((await post(gw.app, user, g.id)).statusCode).toBe(202);
    } finally {
      await other.close();
      redis.disconnect();
    }
  });

  it("a stranger gets 404 and spends nothing of their budget", async () => {
    const stranger = await gw.user();
    for (let i = 0; i < 3; i++) expect((await post(gw.app, stranger)).statusCode).toBe(404);
    expect(await gw.redis.exists(`${gw.config.QUEUE_PREFIX}:ratelimit:messages:${stranger.id}`)).toBe(0);
  });

  it("answers 503 service_unavailable, as any Redis command, while Redis cannot be reached", async () => {
    const redis = new Redis(`redis://127.0.0.1:${await freePort()}/0`, { maxRetriesPerRequest: 1 });
    redis.on("error", () => undefined);
    const app = await secondGateway(redis);
    try {
      const res = await app.inject({
        method: "POST",
        url: "/auth/login",
        payload: { email: owner.email, password: owner.password },
      });
      expect(res.statusCode, res.body).toBe(503);
      expect(res.headers["retry-after"]).toMatch(/^\d+$/);
      expect(res.json()).toMatchObject({ code: "service_unavailable" });
    } finally {
      await app.close();
      redis.disconnect();
    }
  });
});
