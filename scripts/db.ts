import { ConfigError, createPool, loadConfigOrExit, migrateDown, migrateUp } from "@synapse/shared";
import { type LocalServer, persistentCluster, startPostgres } from "./lib/local-services.ts";
import { readStackState } from "./lib/stack-state.ts";

/**
 * `npm run db:migrate` applies pending migrations; `npm run db:rollback [n]` undoes the last n (1).
 * Against DATABASE_URL; without it, against the local stack's PostgreSQL (the running `npm start`'s,
 * or started here for the duration of the command).
 */
const [command, arg] = process.argv.slice(2);
if (command !== "migrate" && command !== "rollback") {
  process.stderr.write("usage: tsx scripts/db.ts migrate | rollback [steps]\n");
  process.exit(2);
}
const steps = arg === undefined ? 1 : Number(arg);
if (!Number.isInteger(steps) || steps < 1) {
  process.stderr.write(`synapse: rollback steps must be a positive integer, got "${arg}"\n`);
  process.exit(2);
}

const config = loadConfigOrExit();
let local: LocalServer | undefined;
let url = config.DATABASE_URL ?? readStackState(config.dataDir)?.databaseUrl;
try {
  if (!url) {
    const cluster = persistentCluster(config.dataDir);
    for (const note of cluster.notes) process.stdout.write(`${note}\n`);
    local = await startPostgres({ dataDir: cluster.dir });
    url = local.url;
  }
  const pool = createPool(url, { max: 1, applicationName: "synapse-migrate" });
  try {
    const done = command === "migrate" ? await migrateUp(pool) : await migrateDown(pool, steps);
    const verb = command === "migrate" ? "applied" : "rolled back";
    process.stdout.write(done.length ? `${verb}: ${done.join(", ")}\n` : `nothing to do\n`);
  } finally {
    await pool.end();
  }
} catch (err) {
  process.stderr.write(`synapse: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await local?.stop();
}
