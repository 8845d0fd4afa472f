import { chownSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createPool, migrateUp } from "@synapse/shared";
import type { TestProject } from "vitest/node";
import { type LocalServer, startPostgres, startRedis } from "../scripts/lib/local-services.ts";

/**
 * One throwaway PostgreSQL and one Redis on free loopback ports for the whole run, with the real
 * migrations applied. Tests isolate themselves by their own users, groups and queue prefixes.
 */
declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
  }
}

let servers: LocalServer[] = [];
let dir = "";

export async function setup(project: TestProject): Promise<void> {
  dir = mkdtempSync(path.join(os.tmpdir(), "synapse-test-"));
  if (process.getuid?.() === 0) {
    // the postgres user must be able to reach its data dir
    const { execFileSync } = await import("node:child_process");
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }));
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }));
    chownSync(dir, uid, gid);
  }
  const [pgServer, redisServer] = await Promise.all([
    startPostgres({ dataDir: path.join(dir, "pg"), ephemeral: true }),
    startRedis({ dataDir: path.join(dir, "redis"), ephemeral: true, allowInstall: true }),
  ]);
  servers = [pgServer, redisServer];
  const pool = createPool(pgServer.url, { max: 2 });
  try {
    await migrateUp(pool);
  } finally {
    await pool.end();
  }
  project.provide("databaseUrl", pgServer.url);
  project.provide("redisUrl", redisServer.url);
}

export async function teardown(): Promise<void> {
  await Promise.all(servers.map((s) => s.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
}
