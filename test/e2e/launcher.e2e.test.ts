import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, relocatedClusterHome } from "../../scripts/lib/local-services.ts";

const root = path.resolve(import.meta.dirname, "../..");
const dataDir = mkdtempSync(path.join(os.tmpdir(), "synapse-launcher-"));
chmodSync(dataDir, 0o755); // PostgreSQL runs as `postgres` when we are root: it must reach its data
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const asRoot = process.getuid?.() === 0;
const NOT_ROOT =
  "the tests do not run as root, and only as root does PostgreSQL run as another user (postgres) " +
  "who may be shut out of a private folder";
if (!asRoot) console.warn(`launcher.e2e: skipping the private-folder case: ${NOT_ROOT}`);

interface Launched {
  child: ChildProcess;
  output: () => string;
  ready: Promise<void>;
}

/**
 * The launcher on `port`: by default scripts/start.ts from this checkout on the test's data dir;
 * with `clone`, `npm start` in that folder with no Synapse setting but the port, in its own process
 * group as from a terminal.
 */
function launch(port: number, clone?: string): Launched {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: String(port),
    LOG_LEVEL: "warn",
    ...(clone ? {} : { SYNAPSE_DATA_DIR: dataDir }),
    DEMO_WORD_DELAY_MS: "0",
  };
  const child = clone
    ? spawn("npm", ["start"], { cwd: clone, env, stdio: ["ignore", "pipe", "pipe"], detached: true })
    : spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts/start.ts")], {
        cwd: root,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
  let out = "";
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes("API ready at")) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`launcher exited with ${code}: ${out}`)));
  });
  return { child, output: () => out, ready };
}

/** Processes whose command line names one of the folders (PostgreSQL, Redis, our services). */
function leftovers(...folders: string[]): string[] {
  const ps = execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" });
  return ps.split("\n").filter((l) => folders.some((f) => l.includes(f)) && !l.includes("ps -eo"));
}

/** True when something accepts connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** `GET /ready`; the process counts are null when Redis does not answer. */
interface ReadyBody {
  status: "ok" | "unavailable";
  postgres: "ok" | "unavailable";
  redis: "ok" | "unavailable";
  orchestrators: number | null;
  workers: number | null;
}

/** `/ready` once an orchestrator and a worker have registered their heartbeats (or after 10 s). */
async function readyOnceRegistered(base: string): Promise<{ status: number; body: ReadyBody }> {
  let res = { status: 0, body: undefined as unknown as ReadyBody };
  for (let i = 0; i < 50; i++) {
    const r = await fetch(`${base}/ready`);
    res = { status: r.status, body: (await r.json()) as ReadyBody };
    if ((res.body.orchestrators ?? 0) >= 1 && (res.body.workers ?? 0) >= 1) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return res;
}

async function register(base: string, email: string): Promise<number> {
  const res = await fetch(`${base}/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: "correct horse" }),
  });
  return res.status;
}

async function login(base: string, email: string): Promise<number> {
  const res = await fetch(`${base}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: "correct horse" }),
  });
  return res.status;
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  child.kill(signal);
  return exited;
}

/**
 * Ctrl-C on a terminal: SIGINT to the whole foreground process group (npm, the launcher). Resolves
 * with npm's exit once every process that writes to the output has closed it: npm waits for its
 * script, then ends itself by the same signal, as a shell does.
 */
async function ctrlC(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once("close", (code, signal) => r({ code, signal })),
  );
  process.kill(-child.pid!, "SIGINT");
  return closed;
}

/**
 * Copies this checkout's files as `git clone` would bring them (tracked and new, none ignored) into
 * `dest`, and links node_modules, so `npm start` there runs what is on disk without installing.
 */
function copyCheckout(dest: string): void {
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
  });
  for (const file of new Set(files.split("\0").filter(Boolean))) {
    const src = path.join(root, file);
    if (!existsSync(src)) continue; // deleted in the work tree
    mkdirSync(path.dirname(path.join(dest, file)), { recursive: true });
    copyFileSync(src, path.join(dest, file));
  }
  symlinkSync(path.join(root, "node_modules"), path.join(dest, "node_modules"));
}

describe("npm start", () => {
  it("brings the stack up, stops it cleanly on Ctrl-C, and finds its data again", {
    timeout: 150_000,
  }, async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const first = launch(port);
    await first.ready;
    expect((await fetch(`${base}/health`)).status).toBe(200);
    // workers register a heartbeat shortly after start
    const ready = await readyOnceRegistered(base);
    expect(ready.body).toMatchObject({ postgres: "ok", redis: "ok", orchestrators: 1, workers: 1 });
    const email = `launcher-${Date.now()}@example.com`;
    expect(await register(base, email)).toBe(201);

    const state = JSON.parse(readFileSync(path.join(dataDir, "stack.json"), "utf8"));
    const ports = [port, Number(new URL(state.databaseUrl).port), Number(new URL(state.redisUrl).port)];
    expect(await Promise.all(ports.map(listening))).toEqual([true, true, true]);

    expect(await stop(first.child, "SIGINT")).toBe(0);
    expect(leftovers(dataDir)).toEqual([]);
    expect(await Promise.all(ports.map(listening))).toEqual([false, false, false]);

    const second = launch(port);
    await second.ready;
    expect(await login(base, email)).toBe(200);
    expect(await stop(second.child, "SIGTERM")).toBe(0);
    expect(leftovers(dataDir)).toEqual([]);
  });

  // Root's home (/root) is 0700 on Debian, and so is every `mktemp -d` folder: a clone there has a
  // data dir that the `postgres` user, who runs PostgreSQL for root, cannot reach.
  it("as root, runs from a clone inside a private (0700) folder with no setting, and finds its data again", {
    timeout: 150_000,
  }, async (ctx) => {
    ctx.skip(!asRoot, NOT_ROOT);
    const privateDir = mkdtempSync(path.join(os.tmpdir(), "synapse-private-"));
    const clone = path.join(privateDir, "synapse");
    const home = relocatedClusterHome(path.join(realpathSync(privateDir), "synapse", ".synapse"));
    const launched: Launched[] = [];
    try {
      expect(statSync(privateDir).mode & 0o777).toBe(0o700);
      copyCheckout(clone);
      const cloneMode = statSync(clone).mode;
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;

      const first = launch(port, clone);
      launched.push(first);
      await first.ready;
      // the start-up line says where the cluster is kept
      expect(first.output()).toContain(`starting PostgreSQL (data in ${path.join(home, "pg")}`);
      const ready = await readyOnceRegistered(base);
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({ status: "ok", postgres: "ok", redis: "ok" });
      const email = `private-${Date.now()}@example.com`;
      expect(await register(base, email)).toBe(201);
      expect(await ctrlC(first.child)).toEqual({ code: null, signal: "SIGINT" });
      expect(first.output()).toMatch(/\[synapse\] stopped\n$/);
      expect(leftovers(clone, home)).toEqual([]);

      const second = launch(port, clone);
      launched.push(second);
      await second.ready;
      expect(await login(base, email)).toBe(200);
      expect(await ctrlC(second.child)).toEqual({ code: null, signal: "SIGINT" });
      expect(second.output()).toMatch(/\[synapse\] stopped\n$/);
      expect(leftovers(clone, home)).toEqual([]);
      // the user's folders keep their permissions
      expect(statSync(privateDir).mode & 0o777).toBe(0o700);
      expect(statSync(clone).mode).toBe(cloneMode);
    } finally {
      for (const l of launched) {
        if (l.child.exitCode === null && l.child.signalCode === null) {
          try {
            await ctrlC(l.child);
          } catch {
            // gone already
          }
        }
      }
      rmSync(privateDir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    }
  });
});
