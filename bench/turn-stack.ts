import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { createPool, createQueue, createRedis, loadConfig, ORCHESTRATOR_QUEUE } from "@synapse/shared";
import type pg from "pg";
import { type ServiceName, serviceArgs } from "../scripts/lib/service-process.ts";
import { type FakeLlmServer, type FakeRequest, startFakeLlmServer } from "../test/fakes/llm-server.ts";
import { insertAgents, insertGroup, insertUser } from "../test/support/seed.ts";
import { type BenchContext, postAsGateway } from "./support.ts";

/**
 * The stack a turn bench drives: the real orchestrator and execution-worker processes, an instant
 * fake LLM on loopback (the real ChatOpenAI client calls it) and, in this process, what the gateway
 * does for a post. Each turn is user → Orchestrator → one agent → Orchestrator completes.
 */
const root = path.resolve(import.meta.dirname, "..");

function script(req: FakeRequest) {
  if (req.system?.startsWith("You are Alice,")) return { text: "alice-answer" };
  const last = req.messages.at(-1)?.content ?? "";
  return { text: last.includes("alice-answer") ? "Done. TASK_COMPLETE" : "@[Alice] please answer" };
}

/** `BENCH_PROFILE=<dir>` writes a V8 CPU profile of each service there (open in Chrome DevTools). */
const profileDir = process.env.BENCH_PROFILE;

function startService(service: ServiceName, env: NodeJS.ProcessEnv): ChildProcess {
  const profile = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
  return spawn(process.execPath, [...profile, ...serviceArgs(service)], {
    cwd: root,
    env,
    stdio: ["ignore", process.env.BENCH_LOG_LEVEL ? "inherit" : "ignore", "inherit"],
  });
}

export interface BenchGroup {
  groupId: string;
  userId: string;
}

export interface TurnStack {
  pool: pg.Pool;
  redis: ReturnType<typeof createRedis>;
  fake: FakeLlmServer;
  /** The service processes: orchestrator, then execution worker. */
  services: { orchestrator: ChildProcess; worker: ChildProcess };
  /** A group with an Orchestrator and Alice, and `history` stored messages. */
  makeGroup(history?: number): Promise<BenchGroup>;
  /** Posts a message as the gateway does and waits for its turn's end: ms. */
  turn(g: BenchGroup): Promise<number>;
  close(): Promise<void>;
}

export async function startTurnStack(ctx: BenchContext): Promise<TurnStack> {
  const prefix = ctx.prefix();
  const pool = createPool(ctx.databaseUrl, { max: 20 });
  const redis = createRedis(ctx.redisUrl);
  const sub = createRedis(ctx.redisUrl);
  const bullmq = createRedis(ctx.redisUrl, { bullmq: true });
  const fake = await startFakeLlmServer();
  fake.respond(script);
  // queued turns left by other benches would be started by this orchestrator's sweeper
  await pool.query("update turns set status = 'ended', reason = 'cancelled' where status <> 'ended'");
  // what the benches before left to vacuum and flush is done now, not by autovacuum during the figures
  await pool.query("vacuum analyze");
  await pool.query("checkpoint");

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_ENV: "production",
    SECRET_KEY: "bench-secret-key-bench-secret-key-0123456789",
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
    DATABASE_URL: ctx.databaseUrl,
    REDIS_URL: ctx.redisUrl,
    QUEUE_PREFIX: prefix,
    DEMO_WORD_DELAY_MS: "0",
    ...fake.env,
    // the shipped defaults (WORKER_CONCURRENCY 8, ORCHESTRATOR_CONCURRENCY 16) unless overridden:
    // 64 each measured no faster on 2 cores, with a longer p99 under load
    ...(process.env.BENCH_WC ? { WORKER_CONCURRENCY: process.env.BENCH_WC } : {}),
    ...(process.env.BENCH_OC ? { ORCHESTRATOR_CONCURRENCY: process.env.BENCH_OC } : {}),
    // job retention as the caller sets it (the soak's comparison with a larger history)
    ...(process.env.QUEUE_KEEP_COMPLETED ? { QUEUE_KEEP_COMPLETED: process.env.QUEUE_KEEP_COMPLETED } : {}),
    ...(process.env.QUEUE_KEEP_FAILED ? { QUEUE_KEEP_FAILED: process.env.QUEUE_KEEP_FAILED } : {}),
  };
  const services = {
    orchestrator: startService("orchestrator", env),
    worker: startService("execution-worker", env),
  };
  // the gateway's queue, configured as the services are
  const queue = createQueue(ORCHESTRATOR_QUEUE, bullmq, loadConfig(env, "/nonexistent-dir-for-dotenv"));
  const waiters = new Map<string, (reason: string) => void>();
  sub.on("pmessage", (_p, _c, raw: string) => {
    // only turn.ended matters here: parsing every token frame would count as the bench's CPU
    if (!raw.includes('"turn.ended"')) return;
    const f = JSON.parse(raw) as { type: string; turn_id?: string; reason?: string };
    if (f.type === "turn.ended" && f.turn_id) waiters.get(f.turn_id)?.(f.reason ?? "");
  });
  await sub.psubscribe(`${prefix}:group:*`);

  return {
    pool,
    redis,
    fake,
    services,
    makeGroup: (history = 0) => makeGroup(pool, history),
    async turn(g) {
      const t0 = performance.now();
      let ended: Promise<string> | undefined;
      const message = await postAsGateway(
        { pool, redis, queue, prefix },
        { groupId: g.groupId, userId: g.userId, senderAlias: "bench", content: "a question" },
        // listening before the turn can start
        (m) => (ended = new Promise<string>((resolve) => waiters.set(m.turn_id!, resolve))),
      );
      const turnId = message.turn_id!;
      const reason = await ended!;
      waiters.delete(turnId);
      if (reason !== "completed") throw new Error(`bench turn ended ${reason}`);
      return performance.now() - t0;
    },
    async close() {
      const children = Object.values(services);
      for (const c of children) c.kill("SIGTERM");
      await Promise.all(
        children.map((c) => new Promise((r) => (c.exitCode !== null ? r(0) : c.once("exit", r)))),
      );
      await queue.close();
      await fake.close();
      sub.disconnect();
      bullmq.disconnect();
      redis.disconnect();
      await pool.end();
    },
  };
}

export async function makeGroup(pool: pg.Pool, history = 0): Promise<BenchGroup> {
  const userId = await insertUser(pool);
  const groupId = await insertGroup(pool, { ownerId: userId, name: "bench" });
  await insertAgents(pool, groupId, [
    { alias: "Orchestrator", provider: "openai", model: "fake" },
    { alias: "Alice", provider: "openai", model: "fake" },
  ]);
  if (history > 0) {
    await pool.query(
      `insert into messages (id, group_id, seq, sender_type, sender_alias, content)
       select gen_random_uuid(), $1, s, case when s % 2 = 0 then 'agent' else 'user' end,
              case when s % 2 = 0 then 'Alice' else 'someone' end, 'old message number ' || s
         from generate_series(1, $2::int) s`,
      [groupId, history],
    );
    await pool.query("update groups set last_seq = $2 where id = $1", [groupId, history]);
    // as autovacuum would have by then: planner statistics that know the group is large
    await pool.query("analyze messages");
  }
  return { groupId, userId };
}
