import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * Where a local PostgreSQL cluster can live. As root, PostgreSQL runs as the `postgres` user
 * (initdb refuses root), who must be able to pass through every folder down to its cluster.
 */
export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

export interface Owner {
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
export function canEnter(owner: Owner, dir: string): boolean {
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
export function unreachable(what: string, owner: Owner, dir: string): Error {
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid of a live postmaster on the cluster in `dir`, if any. */
export function runningPostmaster(dir: string): number | undefined {
  const pidFile = path.join(dir, "postmaster.pid");
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  return pid > 0 && isAlive(pid) ? pid : undefined;
}
