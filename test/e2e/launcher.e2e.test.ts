import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/lib/local-services.ts";

const root = path.resolve(import.meta.dirname, "../..");
const dataDir = mkdtempSync(path.join(os.tmpdir(), "synapse-launcher-"));
chmodSync(dataDir, 0o755); // PostgreSQL runs as `postgres` when we are root: it must reach its data
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function launch(port: number): { child: ChildProcess; output: () => string; ready: Promise<void> } {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    SYNAPSE_DATA_DIR: dataDir,
    PORT: String(port),
    LOG_LEVEL: "warn",
    DEMO_WORD_DELAY_MS: "0",
  };
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts/start.ts")], {
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

/** Processes whose command line names our data dir (PostgreSQL, Redis) or our services under it. */
function leftovers(): string[] {
  const ps = execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" });
  return ps.split("\n").filter((l) => l.includes(dataDir) && !l.includes("ps -eo"));
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

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  child.kill(signal);
  return exited;
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
    let ready: ReadyBody | undefined;
    for (let i = 0; i < 50; i++) {
      ready = (await (await fetch(`${base}/ready`)).json()) as ReadyBody;
      if ((ready.orchestrators ?? 0) >= 1 && (ready.workers ?? 0) >= 1) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(ready).toMatchObject({ postgres: "ok", redis: "ok", orchestrators: 1, workers: 1 });
    const email = `launcher-${Date.now()}@example.com`;
    const reg = await fetch(`${base}/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: "correct horse" }),
    });
    expect(reg.status).toBe(201);

    const state = JSON.parse(readFileSync(path.join(dataDir, "stack.json"), "utf8"));
    const ports = [port, Number(new URL(state.databaseUrl).port), Number(new URL(state.redisUrl).port)];
    expect(await Promise.all(ports.map(listening))).toEqual([true, true, true]);

    expect(await stop(first.child, "SIGINT")).toBe(0);
    expect(leftovers()).toEqual([]);
    expect(await Promise.all(ports.map(listening))).toEqual([false, false, false]);

    const second = launch(port);
    await second.ready;
    const login = await fetch(`${base}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: "correct horse" }),
    });
    expect(login.status).toBe(200);
    expect(await stop(second.child, "SIGTERM")).toBe(0);
    expect(leftovers()).toEqual([]);
  });
});
