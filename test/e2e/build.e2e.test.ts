import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { afterAll, beforeAll, expect, it } from "vitest";
import { testConfig } from "../support/services.ts";

/**
 * The production build: `npm run build`, then each role run by plain `node dist/role.js <role>`
 * (no tsx), with the offline demo provider, carrying a turn from POST to its end.
 */
const root = path.resolve(import.meta.dirname, "../..");
const children: ChildProcess[] = [];
let env: Record<string, string>;

function role(name: string): ChildProcess {
  const child = spawn(process.execPath, [path.join(root, "dist", "role.js"), name], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return child;
}

/** Resolves with the first JSON log line of `child` whose `msg` starts with `prefix`. */
function logLine(child: ChildProcess, prefix: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`exited (${code}) before logging "${prefix}"`)));
    readline.createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (String(entry.msg).startsWith(prefix)) resolve(entry);
      } catch {
        // not a log line
      }
    });
  });
}

beforeAll(async () => {
  const built = spawnSync(process.execPath, ["--import", "tsx", "scripts/build.ts"], {
    cwd: root,
    encoding: "utf8",
  });
  expect(built.status, built.stderr).toBe(0);
  const c = testConfig();
  env = {
    PATH: process.env.PATH ?? "",
    NODE_ENV: "production",
    LOG_LEVEL: "info",
    LOG_FORMAT: "json",
    HOST: "127.0.0.1",
    PORT: "0",
    DATABASE_URL: c.DATABASE_URL!,
    REDIS_URL: c.REDIS_URL!,
    QUEUE_PREFIX: c.QUEUE_PREFIX,
    SECRET_KEY: c.SECRET_KEY!,
    DEMO_WORD_DELAY_MS: "0",
  };
});

afterAll(async () => {
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve(undefined);
          child.once("exit", resolve);
          child.kill("SIGTERM");
        }),
    ),
  );
});

it("the built roles migrate, serve and run a turn with node alone", async () => {
  const migrate = role("migrate");
  expect(await new Promise((r) => migrate.once("exit", r))).toBe(0);

  const gateway = role("gateway");
  const listening = await logLine(gateway, "api gateway listening");
  const url = String(listening.url);
  role("orchestrator");
  role("worker");
  // the bundled gateway finds the browser client's build too
  const app = await fetch(`${url}/app/`);
  expect(app.status).toBe(200);
  expect(app.headers.get("content-type")).toContain("text/html");

  const json = async (method: string, p: string, body?: unknown, token?: string) => {
    const res = await fetch(`${url}${p}`, {
      method,
      headers: {
        ...(body ? { "content-type": "application/json" } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const email = `build-${crypto.randomUUID()}@example.com`;
  expect((await json("POST", "/auth/register", { email, password: "correct horse" })).status).toBe(201);
  const token = String(
    (await json("POST", "/auth/login", { email, password: "correct horse" })).body.access_token,
  );
  const group = await json("POST", "/groups", { name: "built" }, token);
  expect(group.status).toBe(201);
  const posted = await json("POST", `/groups/${group.body.id}/messages`, { content: "hello" }, token);
  expect(posted.status).toBe(202);

  const deadline = Date.now() + 30_000;
  let turn: Record<string, unknown> = {};
  while (Date.now() < deadline) {
    turn = (await json("GET", `/groups/${group.body.id}/turns/${posted.body.turn_id}`, undefined, token))
      .body;
    if (turn.status === "ended") break;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(turn.status).toBe("ended");
  expect(["completed", "awaiting_user"]).toContain(turn.reason);
}, 90_000);
