import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type pg from "pg";

/**
 * Folder of versioned migrations: `NNNN_name.sql` (up) with an optional `NNNN_name.down.sql`.
 * Found through the package, not this file's path, so that the bundled build finds it too.
 */
export const MIGRATIONS_DIR = path.join(
  path.dirname(createRequire(import.meta.url).resolve("@synapse/shared/package.json")),
  "migrations",
);

interface Migration {
  version: string;
  name: string;
  up: string;
  down: string | undefined;
}

// any constant works; it only keeps two `db:migrate` runs from interleaving
const MIGRATION_LOCK = 727_001;

function loadMigrations(dir: string): Migration[] {
  const files = readdirSync(dir);
  const migrations = files
    .filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f) && !f.endsWith(".down.sql"))
    .sort()
    .map((f) => {
      const base = f.slice(0, -".sql".length);
      const downFile = `${base}.down.sql`;
      return {
        version: base.slice(0, 4),
        name: base,
        up: readFileSync(path.join(dir, f), "utf8"),
        down: files.includes(downFile) ? readFileSync(path.join(dir, downFile), "utf8") : undefined,
      };
    });
  // versions are the keys of schema_migrations: two files with one number would hide one of them
  const seen = new Set<string>();
  for (const m of migrations) {
    if (seen.has(m.version)) throw new Error(`two migrations are numbered ${m.version}: renumber one`);
    seen.add(m.version);
  }
  return migrations;
}

async function withLock<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK]);
    await client.query(
      `create table if not exists schema_migrations (
         version text primary key, name text not null, applied_at timestamptz not null default now())`,
    );
    return await fn(client);
  } finally {
    await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
}

async function applied(client: pg.PoolClient): Promise<Set<string>> {
  const { rows } = await client.query<{ version: string }>("select version from schema_migrations");
  return new Set(rows.map((r) => r.version));
}

/** Applies every pending migration, each in its own transaction. Returns the names applied. */
export async function migrateUp(pool: pg.Pool, dir = MIGRATIONS_DIR): Promise<string[]> {
  return withLock(pool, async (client) => {
    const done = await applied(client);
    const ran: string[] = [];
    for (const m of loadMigrations(dir)) {
      if (done.has(m.version)) continue;
      await client.query("begin");
      try {
        await client.query(m.up.replaceAll("--> statement-breakpoint", ""));
        await client.query("insert into schema_migrations (version, name) values ($1, $2)", [
          m.version,
          m.name,
        ]);
        await client.query("commit");
      } catch (err) {
        await client.query("rollback");
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`);
      }
      ran.push(m.name);
    }
    return ran;
  });
}

/** Undoes the last `steps` applied migrations with their `.down.sql` files. Returns the names undone. */
export async function migrateDown(pool: pg.Pool, steps = 1, dir = MIGRATIONS_DIR): Promise<string[]> {
  return withLock(pool, async (client) => {
    const done = await applied(client);
    const targets = loadMigrations(dir)
      .filter((m) => done.has(m.version))
      .reverse()
      .slice(0, steps);
    const undone: string[] = [];
    for (const m of targets) {
      if (m.down === undefined) throw new Error(`migration ${m.name} has no ${m.name}.down.sql`);
      await client.query("begin");
      try {
        await client.query(m.down);
        await client.query("delete from schema_migrations where version = $1", [m.version]);
        await client.query("commit");
      } catch (err) {
        await client.query("rollback");
        throw new Error(`rollback of ${m.name} failed: ${(err as Error).message}`);
      }
      undone.push(m.name);
    }
    return undone;
  });
}
