import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createPool, type Message, migrateUp } from "@synapse/shared";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  findPostgresBin,
  type LocalServer,
  postgresUser,
  startPostgres,
  startRedis,
} from "../../scripts/lib/local-services.ts";
import { agentOf, type Stack, spawnService, startStack } from "./stack.ts";

/**
 * The stack on a PostgreSQL and a Redis of its own (the run's are shared with other test files),
 * with the orchestrator and the worker as processes; the test takes each server away for about
 * 12 s in the middle of turns and checks that every turn completes with nothing lost or doubled.
 */
const OUTAGE_MS = 12_000;

let dir = "";
let pgServer: LocalServer;
let redisServer: LocalServer;
let stack: Stack;
let db: pg.Pool;
const children: ReturnType<typeof spawnService>[] = [];

/**
 * Not `ephemeral`: its `synchronous_commit=off` acknowledges a commit before its WAL is written, so
 * `pg_ctl stop -m immediate` would lose the last commits (a step that dispatched a call) for good.
 */
async function startPg(port?: number): Promise<LocalServer> {
  return startPostgres({ dataDir: path.join(dir, "pg"), port });
}

async function startRedisAof(port?: number): Promise<LocalServer> {
  return startRedis({ dataDir: path.join(dir, "redis"), appendfsync: "always", allowInstall: true, port });
}

/** `pg_ctl stop -m immediate`: the server dies without a checkpoint, its sessions cut. */
async function stopPgImmediately(): Promise<void> {
  const owner = postgresUser();
  execFileSync(
    path.join(findPostgresBin(), "pg_ctl"),
    ["stop", "-D", path.join(dir, "pg"), "-m", "immediate", "-w"],
    { ...(owner ?? {}), stdio: "ignore" },
  );
  await new Promise((r) => (pgServer.child.exitCode === null ? pgServer.child.once("exit", r) : r(null)));
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "synapse-outage-"));
  const owner = postgresUser();
  if (owner) execFileSync("chown", [`${owner.uid}:${owner.gid}`, dir]);
  [pgServer, redisServer] = await Promise.all([startPg(), startRedisAof()]);
  db = createPool(pgServer.url, { max: 4 });
  await migrateUp(db);
  stack = await startStack({
    noWorker: true,
    noOrchestrator: true,
    env: { DATABASE_URL: pgServer.url, REDIS_URL: redisServer.url },
  });
  // each failed attempt during an outage is a warning: show only errors
  const quiet = { LOG_LEVEL: "error" };
  children.push(spawnService(stack, "orchestrator", quiet), spawnService(stack, "execution-worker", quiet));
  // both processes up (their heartbeats counted by /ready) before the first post
  await until(
    async () => {
      const ready = await stack.api<{ orchestrators: number; workers: number }>("GET", "/ready");
      return ready.body.orchestrators >= 1 && ready.body.workers >= 1;
    },
    60_000,
    "the orchestrator and worker processes",
  );
}, 120_000);

afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null) c.child.kill("SIGKILL");
  await Promise.all(children.map((c) => c.exited));
  await stack?.close();
  await db?.end();
  await Promise.all([pgServer?.stop(), redisServer?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what} (${stack.fake.requests.length} LLM calls)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("PostgreSQL and Redis outages in the middle of turns", () => {
  it("every turn completes, with each message stored once and seqs in order", {
    timeout: 150_000,
  }, async () => {
    // the Writer streams for ~2 s, so calls are in flight when a server goes
    stack.fake.respond((req) => {
      const last = req.messages.at(-1)?.content ?? "";
      if (agentOf(req.system) === "Writer")
        return {
          chunks: ["Writer ", "answers ", ...Array.from({ length: 8 }, () => ". ")],
          chunkDelayMs: 250,
        };
      return { text: last.includes("Writer answers") ? "Done. TASK_COMPLETE" : "@[Writer] go" };
    });
    const writerCalls = () => stack.fake.requests.filter((r) => agentOf(r.system) === "Writer").length;
    const owner = await stack.user();
    const groups = [
      await stack.group(owner.token, "a", ["Writer"]),
      await stack.group(owner.token, "b", ["Writer"]),
    ];
    const turnIds: string[] = [];
    const post = async (groupId: string, content: string) => {
      const res = await stack.api<Message>("POST", `/groups/${groupId}/messages`, {
        token: owner.token,
        body: { content },
      });
      expect(res.status).toBe(202);
      turnIds.push(res.body.turn_id!);
    };
    for (const n of [1, 2, 3]) for (const g of groups) await post(g.id, `task ${n}`);

    await until(() => writerCalls() >= 1, 30_000, "a Writer call");
    await stopPgImmediately();
    const during = await stack.api<{ code: string }>("POST", `/groups/${groups[0]!.id}/messages`, {
      token: owner.token,
      body: { content: "while the database is away" },
    });
    expect(during.status).toBe(503);
    expect(during.body.code).toBe("service_unavailable");
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    pgServer = await startPg(Number(new URL(pgServer.url).port));

    const callsBefore = writerCalls();
    await until(() => writerCalls() > callsBefore, 30_000, "a Writer call after PostgreSQL's return");
    redisServer.child.kill("SIGKILL");
    await new Promise((r) => redisServer.child.once("exit", r));
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    redisServer = await startRedisAof(Number(new URL(redisServer.url).port));
    for (const g of groups) await post(g.id, "task 4");

    const ended = async () => {
      const { rows } = await db.query<{ status: string }>("select status from turns where id = any($1)", [
        turnIds,
      ]);
      return rows.length === turnIds.length && rows.every((r) => r.status === "ended");
    };
    await until(ended, 60_000, "every turn to end");
    const { rows: turns } = await db.query<{ id: string; reason: string }>(
      "select id, reason from turns where id = any($1)",
      [turnIds],
    );
    expect(turns.map((t) => t.reason)).toEqual(turnIds.map(() => "completed"));
    for (const g of groups) {
      const { rows } = await db.query<{
        id: string;
        seq: number;
        turn_id: string;
        sender_alias: string;
        content: string;
      }>("select id, seq, turn_id, sender_alias, content from messages where group_id = $1 order by seq", [
        g.id,
      ]);
      expect(rows.map((m) => m.seq)).toEqual(rows.map((_, i) => i + 1));
      const byTurn = new Map<string, typeof rows>();
      for (const m of rows) byTurn.set(m.turn_id, [...(byTurn.get(m.turn_id) ?? []), m]);
      expect(byTurn.size).toBe(4);
      for (const msgs of byTurn.values())
        expect(msgs.map((m) => [m.sender_alias, m.content])).toEqual([
          [owner.email, expect.stringMatching(/^task \d$/)],
          ["Orchestrator", "@[Writer] go"],
          ["Writer", expect.stringMatching(/^Writer answers/)],
          ["Orchestrator", "Done."],
        ]);
      expect(new Set(rows.map((m) => m.id)).size).toBe(rows.length);
    }
  });
});
