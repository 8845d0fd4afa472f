import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { lastCodePoints } from "@synapse/shared/text";
import pg from "pg";
import { canEnter, isRoot, type Owner, postgresUser, runningPostmaster, unreachable } from "./pg-place.ts";

export {
  type ClusterPlace,
  persistentCluster,
  postgresUser,
  RELOCATED_ROOT,
  relocatedClusterHome,
  throwawayDir,
} from "./pg-place.ts";

/**
 * Starts PostgreSQL and Redis as child processes of the caller, for `npm start` and the test harness.
 * As root, PostgreSQL runs as the `postgres` user (initdb refuses root), who must be able to pass
 * through every folder down to its cluster: {@link persistentCluster} and {@link throwawayDir}
 * choose folders where it can.
 */

export interface LocalServer {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The directory with `initdb` and `postgres`: the newest /usr/lib/postgresql/N/bin, or PATH. */
export function findPostgresBin(): string {
  const base = "/usr/lib/postgresql";
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => /^\d+$/.test(v) && Number(v) >= 15 && existsSync(path.join(base, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(base, versions[0], "bin");
  }
  try {
    const bindir = execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim();
    if (existsSync(path.join(bindir, "initdb"))) return bindir;
  } catch {
    // fall through to the message below
  }
  throw new Error(
    "PostgreSQL 15+ server binaries not found: install them (apt-get install postgresql) or set DATABASE_URL",
  );
}

function which(cmd: string): string | undefined {
  try {
    return execFileSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Finds redis-server, installing it with apt-get when missing and allowed (root on Debian). */
export function findRedisServer(allowInstall: boolean): string {
  const found = which("redis-server");
  if (found) return found;
  if (allowInstall && isRoot() && which("apt-get")) {
    process.stderr.write("redis-server is missing: installing it with apt-get...\n");
    execFileSync(
      "sh",
      ["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server"],
      {
        stdio: "inherit",
      },
    );
    const again = which("redis-server");
    if (again) return again;
  }
  throw new Error("redis-server not found: install it (apt-get install redis-server) or set REDIS_URL");
}

function chownTree(dir: string, owner: Owner | undefined): void {
  if (owner) chownSync(dir, owner.uid, owner.gid);
}

function waitExit(child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => {
      child.kill("SIGKILL");
      resolve();
    }, ms);
    child.once("exit", () => {
      clearTimeout(t);
      resolve();
    });
  });
}

async function waitFor(
  what: string,
  child: ChildProcess,
  probe: () => Promise<boolean>,
  ms: number,
  log: () => string,
) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}: ${log()}`);
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not become ready in ${ms} ms: ${log()}`);
}

export interface PostgresOptions {
  dataDir: string;
  port?: number;
  /**
   * Trade durability for speed (tests): fsync and synchronous_commit off. A commit is then
   * acknowledged before it is written, so a server killed (`pg_ctl stop -m immediate`) loses the
   * last ones: a test that kills PostgreSQL must not use it.
   */
  ephemeral?: boolean;
  database?: string;
  /** Own process group, so a terminal's Ctrl-C reaches only the launcher, which stops it last. */
  detached?: boolean;
}

/** Initialises (once) and starts a PostgreSQL server; data survives a restart in `dataDir`. */
export async function startPostgres(opts: PostgresOptions): Promise<LocalServer> {
  const bin = findPostgresBin();
  const owner = postgresUser();
  const port = opts.port ?? (await freePort());
  const database = opts.database ?? "synapse";
  const parent = path.dirname(opts.dataDir);
  mkdirSync(parent, { recursive: true });
  const pwFile = path.join(parent, "postgres.password");
  if (!existsSync(pwFile)) writeFileSync(pwFile, randomBytes(18).toString("base64url"), { mode: 0o600 });
  const password = readFileSync(pwFile, "utf8").trim();
  const ids = owner ? { uid: owner.uid, gid: owner.gid } : {};
  // say which folder is in the way, instead of initdb's or postgres's "Permission denied"
  if (owner && !canEnter(owner, parent))
    throw unreachable(`PostgreSQL cannot use ${opts.dataDir}`, owner, parent);

  if (!existsSync(path.join(opts.dataDir, "PG_VERSION"))) {
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    chownTree(opts.dataDir, owner);
    const tmpPw = path.join(parent, `.pw-${process.pid}`);
    writeFileSync(tmpPw, password, { mode: 0o600 });
    chownTree(tmpPw, owner);
    try {
      execFileSync(
        path.join(bin, "initdb"),
        [
          "-D",
          opts.dataDir,
          "-U",
          "synapse",
          `--pwfile=${tmpPw}`,
          "--auth=scram-sha-256",
          "-E",
          "UTF8",
          "--no-instructions",
        ],
        { ...ids, stdio: ["ignore", "ignore", "pipe"] },
      );
    } finally {
      execFileSync("rm", ["-f", tmpPw]);
    }
  }
  const args = [
    "-D",
    opts.dataDir,
    "-p",
    String(port),
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    "unix_socket_directories=",
  ];
  if (opts.ephemeral)
    args.push("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off");
  args.push("-c", "max_connections=300");
  let stderr = "";
  const running = runningPostmaster(opts.dataDir);
  if (running)
    throw new Error(
      `PostgreSQL is already running on ${opts.dataDir} (pid ${running}); stop it or set DATABASE_URL`,
    );
  const child = spawn(path.join(bin, "postgres"), args, {
    ...ids,
    stdio: ["ignore", "ignore", "pipe"],
    detached: opts.detached ?? false,
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr = lastCodePoints(stderr + d.toString(), 4000);
  });
  const adminUrl = `postgres://synapse:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  await waitFor(
    "PostgreSQL",
    child,
    async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      const { rowCount } = await c.query("select 1 from pg_database where datname = $1", [database]);
      if (!rowCount) await c.query(`create database "${database}"`);
      await c.end();
      return true;
    },
    60_000,
    () => stderr,
  );
  return {
    url: `postgres://synapse:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    child,
    async stop() {
      child.kill("SIGINT"); // fast shutdown: ends sessions, writes a checkpoint
      await waitExit(child, 20_000);
    },
  };
}

export interface RedisOptions {
  dataDir: string;
  port?: number;
  /** No persistence at all (tests). */
  ephemeral?: boolean;
  /** When the AOF is fsynced (tests that kill Redis use "always"). @defaultValue "everysec" */
  appendfsync?: "always" | "everysec";
  allowInstall?: boolean;
  /** See {@link PostgresOptions.detached}. */
  detached?: boolean;
}

/** Starts redis-server on loopback; with persistence (AOF) in `dataDir` unless ephemeral. */
export async function startRedis(opts: RedisOptions): Promise<LocalServer> {
  const bin = findRedisServer(opts.allowInstall ?? false);
  const port = opts.port ?? (await freePort());
  mkdirSync(opts.dataDir, { recursive: true });
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", opts.dataDir, "--daemonize", "no"];
  args.push("--save", "", "--protected-mode", "yes");
  if (opts.ephemeral) args.push("--appendonly", "no");
  else args.push("--appendonly", "yes", "--appendfsync", opts.appendfsync ?? "everysec");
  let out = "";
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], detached: opts.detached ?? false });
  const keep = (d: Buffer) => {
    out = lastCodePoints(out + d.toString(), 4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  await waitFor(
    "Redis",
    child,
    () =>
      new Promise<boolean>((resolve) => {
        const s = net.connect(port, "127.0.0.1");
        s.once("connect", () => s.write("PING\r\n"));
        s.once("data", (d) => {
          s.destroy();
          resolve(d.toString().startsWith("+PONG"));
        });
        s.once("error", () => resolve(false));
      }),
    30_000,
    () => out,
  );
  return {
    url: `redis://127.0.0.1:${port}/0`,
    child,
    async stop() {
      child.kill("SIGTERM"); // redis flushes its AOF on SIGTERM
      await waitExit(child, 20_000);
    },
  };
}
