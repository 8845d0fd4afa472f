import { createLogger, createPool } from "@synapse/shared";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testConfig, testResources } from "../../../../test/support/services.ts";
import { type TestGateway, testGateway } from "../../test/helpers.ts";
import { buildApp } from "../app.ts";

let gw: TestGateway;
beforeAll(async () => {
  gw = await testGateway({ OPENAI_API_KEY: "sk-test", OPENAI_ENDPOINTS: "ollama=http://127.0.0.1:11434/v1" });
});
afterAll(async () => {
  await gw.close();
});

describe("GET /system/tools and /system/llm-options", () => {
  it("need a token", async () => {
    expect((await gw.call("GET", "/system/tools")).statusCode).toBe(401);
    expect((await gw.call("GET", "/system/llm-options")).statusCode).toBe(401);
  });

  it("tools: [{name, description, args_schema}]", async () => {
    const u = await gw.user();
    const res = await gw.call("GET", "/system/tools", { token: u.token });
    expect(res.statusCode).toBe(200);
    const names = res.json().map((t: { name: string }) => t.name);
    expect(names).toEqual(expect.arrayContaining(["web_search", "calculator", "current_time"]));
    for (const tool of res.json()) {
      expect(tool.description).toEqual(expect.any(String));
      expect(tool.args_schema.type).toBe("object");
    }
  });

  it("llm-options: only configured providers, with model suggestions", async () => {
    const u = await gw.user();
    const res = await gw.call("GET", "/system/llm-options", { token: u.token });
    expect(res.statusCode).toBe(200);
    const options = res.json() as { provider_name: string; models: { id: string; name: string }[] }[];
    expect(options.map((o) => o.provider_name)).toEqual(["openai", "ollama", "demo"]);
    expect(options[0]!.models.map((m) => m.id)).toContain("gpt-4o-mini");
    expect(options[1]!.models).toEqual([{ id: "default", name: expect.any(String) }]);
  });
});

describe("GET /health and /ready", () => {
  it("/health → {status: ok}; /ready → 200 with the live process counts", async () => {
    const health = await gw.call("GET", "/health");
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: "ok" });
    const now = Date.now();
    await gw.redis.zadd(`${gw.config.QUEUE_PREFIX}:procs:worker`, now, "w1", now, "w2");
    await gw.redis.zadd(`${gw.config.QUEUE_PREFIX}:procs:orchestrator`, now, "o1", now - 60_000, "stale");
    const ready = await gw.call("GET", "/ready/");
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: "ok", postgres: "ok", redis: "ok", orchestrators: 1, workers: 2 });
  });

  it("/ready → 503 naming PostgreSQL when it does not answer", async () => {
    const config = testConfig();
    const { redis, subscriber, close } = testResources();
    const pool = createPool("postgres://nobody@127.0.0.1:1/none");
    const connection = redis.duplicate({ maxRetriesPerRequest: null });
    const queue = new Queue("orchestrator", {
      connection,
      prefix: config.QUEUE_PREFIX,
    });
    const app = await buildApp({
      config,
      pool,
      redis,
      subscriber,
      logger: createLogger(config, "test"),
      orchestratorQueue: queue,
    });
    try {
      const res = await app.inject({ method: "GET", url: "/ready" });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ status: "unavailable", postgres: "unavailable", redis: "ok" });
      expect((await app.inject({ method: "GET", url: "/health" })).statusCode).toBe(200);
    } finally {
      await app.close();
      await queue.close();
      connection.disconnect();
      await pool.end();
      await close();
    }
  });
});
