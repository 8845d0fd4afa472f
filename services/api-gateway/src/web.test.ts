import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerWebApp } from "./web.ts";

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), "synapse-web-"));
  mkdirSync(path.join(root, "assets"));
  writeFileSync(path.join(root, "index.html"), "<!doctype html><div id=root></div>");
  writeFileSync(path.join(root, "assets", "index-abc123.js"), "console.log(1)");
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function served(dir: string) {
  const logs: string[] = [];
  const app = Fastify({ logger: { level: "info", stream: { write: (l: string) => logs.push(l) } } });
  await registerWebApp(app, dir);
  return { app, logs };
}

describe("registerWebApp", () => {
  it("serves the build under /app/, index.html for the client's routes, and redirects / there", async () => {
    const { app } = await served(root);
    const index = await app.inject({ url: "/app/" });
    expect(index.statusCode).toBe(200);
    expect(index.body).toContain("<div id=root>");
    expect(index.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(index.headers["cache-control"]).toBe("no-cache");
    const route = await app.inject({ url: "/app/groups/123e4567-e89b-12d3-a456-426614174000/settings" });
    expect(route.statusCode).toBe(200);
    expect(route.headers["content-type"]).toContain("text/html");
    expect(route.body).toContain("<div id=root>");
    const asset = await app.inject({ url: "/app/assets/index-abc123.js" });
    expect(asset.headers["cache-control"]).toContain("immutable");
    const home = await app.inject({ url: "/" });
    expect(home.statusCode).toBe(302);
    expect(home.headers.location).toBe("/app/");
    await app.close();
  });

  it("without a build serves nothing and says so", async () => {
    const { app, logs } = await served(path.join(root, "missing"));
    expect((await app.inject({ url: "/app/" })).statusCode).toBe(404);
    expect((await app.inject({ url: "/" })).statusCode).toBe(404);
    expect(logs.join("")).toContain("no web client build");
    await app.close();
  });
});
