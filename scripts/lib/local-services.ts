import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { lastCodePoints } from "@synapse/shared/text";
import pg from "pg";

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

function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

interface Owner {
  uid: number;
  gid: number;
}

/** The user PostgreSQL runs as when we are root (initdb refuses root); none otherwise. */
export function postgresUser(): Owner | undefined {
  if (!isRoot()) return undefined;
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    return { uid, gid };
  } catch {
    throw new Error(
      "running as root needs a 'postgres' system user for PostgreSQL (apt-get install postgresql)",
    );
  }
}

/**
 * Whether `owner` can pass through every folder down to `dir` and enter it, checked by running
 * `test -x` as that user: with its uid and gid and no supplementary groups, as PostgreSQL runs.
 */
function canEnter(owner: Owner, dir: string): boolean {
  return spawnSync("test", ["-x", dir], { uid: owner.uid, gid: owner.gid, stdio: "ignore" }).status === 0;
}

/** The first folder on the way to `dir` that `owner` cannot pass, with its mode and owner. */
function blockedAt(owner: Owner, dir: string): string {
  const parts = path.resolve(dir).split(path.sep).filter(Boolean);
  let at: string = path.sep;
  for (const part of ["", ...parts]) {
    at = path.join(at, part);
    if (!canEnter(owner, at)) {
      try {
        const st = statSync(at);
        const mode = (st.mode & 0o777).toString(8).padStart(4, "0");
        return `${at} (mode ${mode}, owner ${st.uid === 0 ? "root" : `uid ${st.uid}`})`;
      } catch {
        return at;
      }
    }
  }
  return path.resolve(dir);
}

/** Raised when PostgreSQL cannot be given a folder it can use: one line, folder, reason, remedy. */
function unreachable(what: string, owner: Owner, dir: string): Error {
  return new Error(
    `${what}: the postgres user, who runs PostgreSQL for root, cannot pass through ` +
      `${blockedAt(owner, dir)}; set SYNAPSE_DATA_DIR to a folder it can reach (or DATABASE_URL to a running server)`,
  );
}

/** Where a data dir's cluster is kept when the postgres user cannot reach the data dir (as root). */
export const RELOCATED_ROOT = "/var/lib/synapse";

/** The folder under {@link RELOCATED_ROOT} for the data dir at this real path. */
export function relocatedClusterHome(realDataDir: string): string {
  return path.join(RELOCATED_ROOT, createHash("sha256").update(realDataDir).digest("hex").slice(0, 16));
}

/** In the data dir: the path of its cluster when that is kept under {@link RELOCATED_ROOT}. */
const LOCATION_FILE = "pg.location";

export interface ClusterPlace {
  /** The cluster's folder (PostgreSQL's data directory), for {@link startPostgres}. */
  dir: string;
  /** Why it is not `<dataDir>/pg`, for the start-up line. */
  why?: string;
  /** What was done on the way, for the start-up output. */
  notes: string[];
}

/**
 * Where `npm start` and `npm run db:*` keep the PostgreSQL cluster of the Synapse data dir
 * `dataDir`: `<dataDir>/pg`, unless we are root and the `postgres` user cannot pass through a folder
 * on the way (a clone under /root, or any `mktemp -d` folder, is inside a 0700 folder). Then the
 * cluster is kept in `/var/lib/synapse/<hash of the data dir's real path>/pg`, and
 * `<dataDir>/pg.location` names it, so the choice holds on later starts even if the folders become
 * reachable. A data dir removed and made again (no pg.location) gets a fresh cluster there: the old
 * one, left by the data dir that is gone, is removed. The permissions of the user's folders are
 * never changed.
 * @throws when no usable place can be had (one line: the folder, the reason, the setting).
 */
export function persistentCluster(dataDir: string): ClusterPlace {
  const inPlace = path.join(dataDir, "pg");
  const owner = postgresUser();
  if (!owner) return { dir: inPlace, notes: [] };
  mkdirSync(dataDir, { recursive: true });
  const locationFile = path.join(dataDir, LOCATION_FILE);
  const real = realpathSync(dataDir);
  const blocked = canEnter(owner, dataDir) ? undefined : blockedAt(owner, dataDir);
  const why = blocked && `the postgres user cannot pass through ${blocked}`;
  if (existsSync(locationFile)) {
    const dir = readFileSync(locationFile, "utf8").trim();
    return { dir, why: why ?? `named by ${locationFile}`, notes: [] };
  }
  if (!blocked) return { dir: inPlace, notes: [] };
  if (existsSync(path.join(inPlace, "PG_VERSION")))
    throw unreachable(`PostgreSQL cannot use its data in ${inPlace}`, owner, dataDir);

  const home = relocatedClusterHome(real);
  const dir = path.join(home, "pg");
  const notes: string[] = [];
  if (existsSync(home)) {
    const pid = runningPostmaster(dir);
    if (pid)
      throw new Error(`PostgreSQL is already running on ${dir} (pid ${pid}); stop it or set DATABASE_URL`);
    notes.push(`removed ${home}: PostgreSQL data of an earlier ${real} that is gone`);
    rmSync(home, { recursive: true, force: true });
  }
  try {
    // our own folders: made passable whatever root's umask
    if (!existsSync(RELOCATED_ROOT)) {
      mkdirSync(RELOCATED_ROOT, { recursive: true });
      chmodSync(RELOCATED_ROOT, 0o755);
    }
    mkdirSync(home);
    chmodSync(home, 0o755);
    writeFileSync(path.join(home, "data-dir"), `${real}\n`, { mode: 0o644 });
  } catch (err) {
    throw new Error(
      `PostgreSQL cannot keep the data of ${real} in ${home} (${(err as Error).message}), and the ` +
        `postgres user, who runs PostgreSQL for root, cannot pass through ${blocked}; ` +
        "set SYNAPSE_DATA_DIR to a folder it can reach (or DATABASE_URL to a running server)",
    );
  }
  if (!canEnter(owner, home)) throw unreachable(`PostgreSQL cannot use ${home}`, owner, home);
  writeFileSync(locationFile, `${dir}\n`);
  return { dir, why, notes };
}

/**
 * A new, empty folder for throwaway servers (tests, benches) in the temp dir, which the caller
 * removes. As root it belongs to the `postgres` user, and is made under /tmp when the postgres user
 * cannot reach the temp dir (TMPDIR set to a private folder).
 */
export function throwawayDir(prefix: string): string {
  const owner = postgresUser();
  const base = owner && !canEnter(owner, os.tmpdir()) ? "/tmp" : os.tmpdir();
  const dir = mkdtempSync(path.join(base, prefix));
  if (owner) chownSync(dir, owner.uid, owner.gid);
  return dir;
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid of a live postmaster on the cluster in `dir`, if any. */
function runningPostmaster(dir: string): number | undefined {
  const pidFile = path.join(dir, "postmaster.pid");
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  return pid > 0 && isAlive(pid) ? pid : undefined;
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
  /** Trade durability for speed (tests): fsync and synchronous_commit off. */
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
