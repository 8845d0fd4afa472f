import { createRedis, ORCHESTRATOR_QUEUE } from "@synapse/shared";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { testConfig, testResources } from "../../../test/support/services.ts";
import { type TestGateway, testGateway } from "../test/helpers.ts";
import { buildApp } from "./app.ts";

let gw: TestGateway;
beforeAll(async () => {
  gw = await testGateway({ CORS_ORIGINS: "https://app.example.com", BODY_LIMIT_BYTES: "4096" });
});
afterAll(async () => {
  await gw.close();
});

interface OpenApi {
  paths: Record<
    string,
    Record<string, { responses: Record<string, unknown>; security?: unknown[]; operationId?: string }>
  >;
}

describe("OpenAPI and docs", () => {
  it("/openapi.json documents every route with its error responses", async () => {
    const res = await gw.call("GET", "/openapi.json");
    expect(res.statusCode).toBe(200);
    const doc = res.json() as OpenApi & { openapi: string };
    expect(doc.openapi).toMatch(/^3\./);
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(ops.sort()).toEqual(
      [
        "GET /health",
        "GET /ready",
        "POST /auth/register",
        "POST /auth/login",
        "GET /auth/me",
        "POST /groups",
        "GET /groups",
        "GET /groups/{id}",
        "PUT /groups/{id}",
        "DELETE /groups/{id}",
        "POST /groups/{id}/members",
        "PUT /groups/{id}/members/{member_id}",
        "DELETE /groups/{id}/members/{member_id}",
        "POST /groups/{id}/participants",
        "DELETE /groups/{id}/participants/{user_id}",
        "POST /groups/{id}/messages",
        "GET /groups/{id}/messages",
        "GET /groups/{id}/turns/{turn_id}",
        "POST /groups/{id}/turns/{turn_id}/cancel",
        "GET /system/tools",
        "GET /system/llm-options",
      ].sort(),
    );
    for (const [path, methods] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(methods)) {
        const codes = Object.keys(op.responses);
        const where = `${method} ${path}`;
        expect(
          codes.some((c) => c.startsWith("2")),
          where,
        ).toBe(true);
        if (path !== "/health" && path !== "/ready") expect(codes, where).toContain("422");
        if (op.security?.length) expect(codes, where).toContain("401");
        if (path.includes("{id}")) expect(codes, where).toContain("404");
      }
    const refs = [...res.body.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    const components = (doc as unknown as { components: { schemas: Record<string, unknown> } }).components
      .schemas;
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((r) => !(r in components))).toEqual([]);
    const login = doc.paths["/auth/login"]!.post as unknown as {
      requestBody: { content: Record<string, unknown> };
    };
    expect(Object.keys(login.requestBody.content).sort()).toEqual([
      "application/json",
      "application/x-www-form-urlencoded",
    ]);
  });

  it("names every operation once, declares the public ones and where the API is served", async () => {
    const doc = (await gw.call("GET", "/openapi.json")).json() as OpenApi & { servers?: { url: string }[] };
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ where: `${method.toUpperCase()} ${path}`, ...op })),
    );
    const ids = ops.map((op) => op.operationId);
    for (const op of ops) expect(op.operationId, op.where).toMatch(/^[a-z][A-Za-z]+$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(
      ops
        .filter((op) => op.security?.length === 0)
        .map((op) => op.where)
        .sort(),
    ).toEqual(["GET /health", "GET /ready", "POST /auth/login", "POST /auth/register"].sort());
    expect(ops.every((op) => op.security !== undefined)).toBe(true);
    expect(doc.servers?.length).toBeGreaterThan(0);
  });

  it("Swagger UI at /docs and ReDoc at /redoc, with a CSP that lets them load", async () => {
    const docs = await gw.call("GET", "/docs");
    const page = docs.statusCode === 302 ? await gw.call("GET", docs.headers.location as string) : docs;
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toContain("text/html");
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    const redoc = await gw.call("GET", "/redoc");
    expect(redoc.statusCode).toBe(200);
    expect(redoc.body).toContain("/openapi.json");
    expect(redoc.headers["content-security-policy"]).toContain("https://cdn.jsdelivr.net");
  });
});

describe("HTTP behaviour", () => {
  it("paths work with and without a trailing slash", async () => {
    const u = await gw.user();
    const g = await gw.group(u);
    for (const path of [
      "/health",
      "/groups",
      `/groups/${g.id}`,
      `/groups/${g.id}/messages`,
      "/auth/me",
      "/system/tools",
    ]) {
      const plain = await gw.call("GET", path, { token: u.token });
      const slash = await gw.call("GET", `${path}/`, { token: u.token });
      expect({ path, status: slash.statusCode }).toEqual({ path, status: plain.statusCode });
      expect(plain.statusCode).toBe(200);
    }
    expect(
      (await gw.call("POST", "/auth/register/", { body: { email: "x", password: "y" } })).statusCode,
    ).toBe(422);
  });

  it("security headers, request ids, JSON 404 for unknown routes", async () => {
    const res = await gw.call("GET", "/health", { headers: { "x-request-id": "req-123" } });
    expect(res.headers["x-request-id"]).toBe("req-123");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(res.headers["strict-transport-security"]).toBeDefined();
    const generated = await gw.call("GET", "/health", { headers: { "x-request-id": "bad id with spaces" } });
    expect(generated.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    const missing = await gw.call("GET", "/nothing/here");
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ detail: expect.any(String), code: "not_found" });
  });

  it("CORS only for the configured origins, with credentials, never *", async () => {
    const allowed = await gw.app.inject({
      method: "OPTIONS",
      url: "/groups",
      headers: {
        origin: "https://app.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
      },
    });
    expect(allowed.statusCode).toBeLessThan(300);
    expect(allowed.headers["access-control-allow-origin"]).toBe("https://app.example.com");
    expect(allowed.headers["access-control-allow-credentials"]).toBe("true");
    const other = await gw.app.inject({
      method: "GET",
      url: "/health",
      headers: { origin: "https://evil.example" },
    });
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("413 {detail, code} for a body over BODY_LIMIT_BYTES", async () => {
    const u = await gw.user();
    const g = await gw.group(u);
    const res = await gw.call("POST", `/groups/${g.id}/messages`, {
      token: u.token,
      body: { content: "x".repeat(5000) },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe("payload_too_large");
  });
});

describe("the error handler", () => {
  it("turns an unexpected error into a logged, generic 500 with the request id and no stack", async () => {
    const config = testConfig({ LOG_LEVEL: "error" });
    const { pool, redis, subscriber, close } = testResources();
    const connection = createRedis(config.REDIS_URL!, { bullmq: true });
    const queue = new Queue(ORCHESTRATOR_QUEUE, { connection, prefix: config.QUEUE_PREFIX });
    const lines: string[] = [];
    const logger = pino({ level: "error" }, { write: (line: string) => lines.push(line) });
    const app = await buildApp({ config, pool, redis, subscriber, logger, orchestratorQueue: queue });
    app.get("/boom", async () => {
      throw new Error("database password is hunter2");
    });
    try {
      const res = await app.inject({ method: "GET", url: "/boom", headers: { "x-request-id": "boom-1" } });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ detail: expect.stringContaining("boom-1"), code: "internal_error" });
      expect(res.body).not.toContain("hunter2");
      expect(res.body).not.toContain("at ");
      const logged = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "unexpected error");
      expect(logged).toMatchObject({ reqId: "boom-1", err: { message: "database password is hunter2" } });
    } finally {
      await app.close();
      await queue.close();
      connection.disconnect();
      await close();
    }
  });
});

describe("wiring", () => {
  it("opens no connection of its own: every one it uses comes in its deps", async () => {
    const config = testConfig();
    const { pool, close } = testResources();
    const connect = vi.spyOn(Redis.prototype, "connect");
    // never connected: nothing here needs them
    const redis = new Redis(config.REDIS_URL!, { lazyConnect: true });
    const subscriber = new Redis(config.REDIS_URL!, { lazyConnect: true });
    const orchestratorQueue = { name: ORCHESTRATOR_QUEUE } as Queue;
    try {
      const app = await buildApp({
        config,
        pool,
        redis,
        subscriber,
        logger: pino({ level: "silent" }),
        orchestratorQueue,
      });
      expect((await app.inject({ method: "GET", url: "/health" })).statusCode).toBe(200);
      await app.close();
      expect(connect).not.toHaveBeenCalled();
      expect([redis.status, subscriber.status]).toEqual(["wait", "wait"]);
    } finally {
      connect.mockRestore();
      redis.disconnect();
      subscriber.disconnect();
      await close();
    }
  });
});
