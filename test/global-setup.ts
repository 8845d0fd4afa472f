import { rmSync } from "node:fs";
import path from "node:path";
import { createPool, migrateUp } from "@synapse/shared";
import type { TestProject } from "vitest/node";
import { type LocalServer, startPostgres, startRedis, throwawayDir } from "../scripts/lib/local-services.ts";

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
  // as root, owned by the postgres user, who runs PostgreSQL
  dir = throwawayDir("synapse-test-");
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
