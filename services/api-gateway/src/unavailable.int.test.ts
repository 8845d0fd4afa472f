import { createLogger, createPool } from "@synapse/shared";
import { Redis } from "ioredis";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../scripts/lib/local-services.ts";
import { type GroupDetail, type TestGateway, type TestUser, testGateway } from "../test/helpers.ts";
import { buildApp } from "./app.ts";
import type { App } from "./deps.ts";

let gw: TestGateway;
let owner: TestUser;
let group: GroupDetail;
beforeAll(async () => {
  gw = await testGateway();
  owner = await gw.user();
  group = await gw.group(owner);
});
afterAll(async () => {
  await gw?.close();
});

/** A second gateway on the same config as `gw`, with `pool` or `redis` replaced. */
async function gatewayWith(parts: { pool?: pg.Pool; redis?: Redis }): Promise<App> {
  const app = await buildApp({
    config: gw.config,
    pool: parts.pool ?? gw.pool,
    redis: parts.redis ?? gw.redis,
    subscriber: gw.subscriber,
    logger: createLogger(gw.config, "gateway-test"),
    orchestratorQueue: gw.queue,
  });
  await app.ready();
  return app;
}

function post(app: App, content = "hello") {
  return app.inject({
    method: "POST",
    url: `/groups/${group.id}/messages`,
    headers: { authorization: `Bearer ${owner.token}` },
    payload: { content },
  });
}

function expectUnavailable(res: Awaited<ReturnType<typeof post>>): void {
  expect(res.statusCode, res.body).toBe(503);
  expect(res.headers["retry-after"]).toMatch(/^\d+$/);
  expect(res.json()).toEqual({ code: "service_unavailable", detail: expect.stringMatching(/unavailable/) });
}

describe("a route whose dependency is down", () => {
  it("answers 503 service_unavailable with Retry-After while PostgreSQL refuses connections", async () => {
    const port = await freePort(); // nothing listens there
    const pool = createPool(`postgres://synapse:x@127.0.0.1:${port}/synapse`, { max: 2 });
    const app = await gatewayWith({ pool });
    try {
      expectUnavailable(await post(app));
      expectUnavailable(
        await app.inject({
          method: "GET",
          url: "/auth/me",
          headers: { authorization: `Bearer ${owner.token}` },
        }),
      );
      expectUnavailable(
        await app.inject({
          method: "GET",
          url: `/groups/${group.id}/messages`,
          headers: { authorization: `Bearer ${owner.token}` },
        }),
      );
    } finally {
      await app.close();
      await pool.end();
    }
  });

  it("answers 503 service_unavailable with Retry-After while Redis cannot be reached", async () => {
    const port = await freePort();
    // gives up on a command after one reconnect attempt (the default waits about 10 s)
    const redis = new Redis(`redis://127.0.0.1:${port}/0`, { maxRetriesPerRequest: 1 });
    redis.on("error", () => undefined);
    const app = await gatewayWith({ redis });
    try {
      expectUnavailable(await post(app));
      // the rate limit's store is Redis too: login cannot count its hit
      expectUnavailable(
        await app.inject({
          method: "POST",
          url: "/auth/login",
          payload: { email: owner.email, password: owner.password },
        }),
      );
      // nothing was stored: the post failed before its message
      const page = await gw.call("GET", `/groups/${group.id}/messages`, { token: owner.token });
      expect(page.json()).toEqual([]);
    } finally {
      await app.close();
      redis.disconnect();
    }
  });
});
