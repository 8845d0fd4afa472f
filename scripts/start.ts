import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { ConfigError, createPool, loadConfigOrExit, migrateUp, redactUrl } from "@synapse/shared";
import { type LocalServer, persistentCluster, startPostgres, startRedis } from "./lib/local-services.ts";
import { localMetricsPorts, serviceArgs } from "./lib/service-process.ts";
import { clearStackState, writeStackState } from "./lib/stack-state.ts";
import { buildWeb, webBuildIsStale } from "./lib/web-build.ts";

/**
 * `npm start`: the whole stack on one machine. Starts PostgreSQL and Redis (data under
 * SYNAPSE_DATA_DIR; as root, PostgreSQL's may be kept elsewhere: see persistentCluster) unless
 * DATABASE_URL / REDIS_URL point elsewhere, applies migrations, runs the gateway, the orchestrator
 * and an execution worker with prefixed output, restarts a service that dies, and on Ctrl-C or
 * SIGTERM stops everything it started: services first (they drain), then Redis and PostgreSQL.
 */
const root = path.resolve(import.meta.dirname, "..");
const config = loadConfigOrExit();
const SERVICES = [
  { name: "gateway", process: "gateway" },
  { name: "orchestrator", process: "orchestrator" },
  { name: "worker", process: "execution-worker" },
] as const;

const say = (line: string) => process.stdout.write(`[synapse] ${line}\n`);
const servers: LocalServer[] = [];
const children = new Map<string, ChildProcess>();
let stopping = false;

async function stopAll(code: number): Promise<never> {
  if (stopping) return new Promise(() => undefined);
  stopping = true;
  say("stopping...");
  await Promise.all(
    [...children.values()].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const kill = setTimeout(() => child.kill("SIGKILL"), 20_000);
          child.once("exit", () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill("SIGTERM");
        }),
    ),
  );
  for (const s of servers.reverse()) await s.stop();
  clearStackState(config.dataDir);
  say("stopped");
  process.exit(code);
}

process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));

function prefixLines(stream: NodeJS.ReadableStream | null, name: string, out: NodeJS.WriteStream): void {
  if (!stream) return;
  const tag = `${name.padEnd(12)}|`;
  readline.createInterface({ input: stream }).on("line", (line) => out.write(`${tag} ${line}\n`));
}

function run(service: (typeof SERVICES)[number], env: NodeJS.ProcessEnv, restarts = 0): void {
  const child = spawn(process.execPath, serviceArgs(service.process), {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    // own process group: a terminal's Ctrl-C reaches only the launcher, which stops services in order
    detached: true,
  });
  children.set(service.name, child);
  prefixLines(child.stdout, service.name, process.stdout);
  prefixLines(child.stderr, service.name, process.stderr);
  const startedAt = Date.now();
  child.once("exit", (code, signal) => {
    if (stopping) return;
    // a bad setting exits with 2 at once: restarting cannot help
    if (code === 2) {
      say(`${service.name} stopped on a configuration error`);
      void stopAll(1);
      return;
    }
    const n = Date.now() - startedAt > 60_000 ? 0 : restarts + 1;
    if (n > 5) {
      say(`${service.name} keeps failing (exit ${code ?? signal}); giving up`);
      void stopAll(1);
      return;
    }
    const delay = Math.min(10_000, 500 * 2 ** n);
    say(`${service.name} exited (${code ?? signal}); restarting in ${delay} ms`);
    setTimeout(() => run(service, env, n), delay);
  });
}

async function waitHealthy(url: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !stopping) {
    try {
      if ((await fetch(`${url}/health`)).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

try {
  if (webBuildIsStale(root)) {
    say("building the web client (packages/web)...");
    buildWeb(root);
  }
  let databaseUrl = config.DATABASE_URL;
  let redisUrl = config.REDIS_URL;
  if (!databaseUrl) {
    const cluster = persistentCluster(config.dataDir);
    for (const note of cluster.notes) say(note);
    say(`starting PostgreSQL (data in ${cluster.dir}${cluster.why ? `: ${cluster.why}` : ""})`);
    const pg = await startPostgres({ dataDir: cluster.dir, detached: true });
    servers.push(pg);
    databaseUrl = pg.url;
  }
  if (!redisUrl) {
    say(`starting Redis (data in ${path.join(config.dataDir, "redis")})`);
    const redis = await startRedis({
      dataDir: path.join(config.dataDir, "redis"),
      allowInstall: true,
      detached: true,
    });
    servers.push(redis);
    redisUrl = redis.url;
  }
  const pool = createPool(databaseUrl, { max: 1, applicationName: "synapse-migrate" });
  try {
    const applied = await migrateUp(pool);
    say(applied.length ? `migrations applied: ${applied.join(", ")}` : "database schema is up to date");
  } finally {
    await pool.end();
  }
  const host = config.HOST === "0.0.0.0" || config.HOST === "::" ? "127.0.0.1" : config.HOST;
  const apiUrl = `http://${host.includes(":") ? `[${host}]` : host}:${config.PORT}`;
  writeStackState(config.dataDir, { pid: process.pid, databaseUrl, redisUrl, apiUrl });
  say(`PostgreSQL ${redactUrl(databaseUrl)}, Redis ${redactUrl(redisUrl)}`);

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    ...(process.stdout.isTTY && !process.env.LOG_FORMAT ? { LOG_FORMAT: "pretty" } : {}),
  };
  const metrics = localMetricsPorts(config.METRICS_PORT);
  for (const s of SERVICES) {
    const port = s.name === "gateway" ? undefined : metrics?.[s.name];
    run(s, port === undefined ? env : { ...env, METRICS_PORT: String(port) });
  }
  if (await waitHealthy(apiUrl, 60_000)) {
    say(`API ready at ${apiUrl}  (docs: ${apiUrl}/docs; Ctrl-C stops everything)`);
    say(`open ${apiUrl}/ in a browser for the app`);
    say(
      metrics
        ? `metrics: ${apiUrl}/metrics, orchestrator http://${host}:${metrics.orchestrator}/metrics, worker http://${host}:${metrics.worker}/metrics`
        : `metrics: ${apiUrl}/metrics (set METRICS_PORT for the orchestrator's and the worker's)`,
    );
  } else if (!stopping) {
    say(`the gateway did not answer ${apiUrl}/health within 60 s`);
  }
} catch (err) {
  say(err instanceof ConfigError ? err.message : `failed to start: ${(err as Error).message}`);
  await stopAll(1);
}
