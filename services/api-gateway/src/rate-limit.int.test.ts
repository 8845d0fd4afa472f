import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestGateway, type TestUser, testGateway } from "../test/helpers.ts";
import type { App } from "./deps.ts";

let gw: TestGateway;
let groupId: string;
beforeAll(async () => {
  gw = await testGateway({ RATE_LIMIT_MESSAGES_PER_MINUTE: "2" });
  groupId = (await gw.group(await gw.user())).id;
});
afterAll(async () => {
  await gw?.close();
});

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
    // another gateway instance of the same deployment (same key prefix), with its own Redis client
    const other = await testGateway({
      RATE_LIMIT_MESSAGES_PER_MINUTE: "2",
      QUEUE_PREFIX: gw.config.QUEUE_PREFIX,
    });
    try {
      expect((await post(gw.app, user, g.id)).statusCode).toBe(202);
      expect((await post(other.app, user, g.id)).statusCode).toBe(202);
      const key = `${gw.config.QUEUE_PREFIX}:ratelimit:messages:${user.id}`;
      expect(await gw.redis.get(key)).toBe("2");
      const ttl = await gw.redis.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);

      const res = await post(other.app, user, g.id);
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
    }
  });

  it("a stranger gets 404 and spends nothing of their budget", async () => {
    const stranger = await gw.user();
    for (let i = 0; i < 3; i++) expect((await post(gw.app, stranger)).statusCode).toBe(404);
    expect(await gw.redis.exists(`${gw.config.QUEUE_PREFIX}:ratelimit:messages:${stranger.id}`)).toBe(0);
  });
});
