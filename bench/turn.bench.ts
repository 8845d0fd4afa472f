import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { ChatOpenAI } from "@langchain/openai";
import {
  createPool,
  createRedis,
  defaultJobOptions,
  insertMessage,
  ORCHESTRATOR_QUEUE,
  publishFrame,
  storeUserMessage,
} from "@synapse/shared";
import { Queue, Worker } from "bullmq";
import type pg from "pg";
import { type FakeRequest, startFakeLlmServer } from "../test/fakes/llm-server.ts";
import { type Bench, type BenchContext, type BenchRow, median, percentile } from "./support.ts";

/**
 * A 3-step turn (user → Orchestrator → one agent → Orchestrator completes) through the real
 * orchestrator and execution-worker processes, with an instant fake LLM on loopback (the real
 * ChatOpenAI client calls it). Next to it, in the same run, the I/O floor of one step done by hand.
 */
const root = path.resolve(import.meta.dirname, "..");

function script(req: FakeRequest) {
  if (req.system?.startsWith("You are Alice,")) return { text: "alice-answer" };
  const last = req.messages.at(-1)?.content ?? "";
  return { text: last.includes("alice-answer") ? "Done. TASK_COMPLETE" : "@[Alice] please answer" };
}

/** `BENCH_PROFILE=<dir>` writes a V8 CPU profile of each service there (open in Chrome DevTools). */
const profileDir = process.env.BENCH_PROFILE;

function startService(file: string, env: NodeJS.ProcessEnv): ChildProcess {
  const profile = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
  return spawn(process.execPath, [...profile, "--import", "tsx", path.join(root, file)], {
    cwd: root,
    env,
    stdio: ["ignore", process.env.BENCH_LOG_LEVEL ? "inherit" : "ignore", "inherit"],
  });
}

async function makeGroup(pool: pg.Pool, history = 0): Promise<{ groupId: string; userId: string }> {
  const userId = randomUUID();
  const groupId = randomUUID();
  await pool.query("insert into users (id, email, password_hash) values ($1, $2, 'x')", [
    userId,
    `${userId}@bench.example`,
  ]);
  await pool.query("insert into groups (id, name, owner_id) values ($1, 'bench', $2)", [groupId, userId]);
  await pool.query(
    `insert into agents (group_id, alias, provider, model, is_orchestrator)
     values ($1, 'Orchestrator', 'openai', 'fake', true), ($1, 'Alice', 'openai', 'fake', false)`,
    [groupId],
  );
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

export default (async (ctx: BenchContext): Promise<BenchRow[]> => {
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
    ...fake.env,
    // the shipped defaults (WORKER_CONCURRENCY 8, ORCHESTRATOR_CONCURRENCY 16) unless overridden:
    // 64 each measured no faster on 2 cores, with a longer p99 under load
    ...(process.env.BENCH_WC ? { WORKER_CONCURRENCY: process.env.BENCH_WC } : {}),
    ...(process.env.BENCH_OC ? { ORCHESTRATOR_CONCURRENCY: process.env.BENCH_OC } : {}),
  };
  const children = [
    startService("services/orchestrator/src/main.ts", env),
    startService("services/execution-worker/src/main.ts", env),
  ];
  const queue = new Queue(ORCHESTRATOR_QUEUE, { connection: bullmq, prefix, defaultJobOptions });
  const waiters = new Map<string, (reason: string) => void>();
  sub.on("pmessage", (_p, _c, raw: string) => {
    const f = JSON.parse(raw) as { type: string; turn_id?: string; reason?: string };
    if (f.type === "turn.ended" && f.turn_id) waiters.get(f.turn_id)?.(f.reason ?? "");
  });
  await sub.psubscribe(`${prefix}:group:*`);

  /** What the gateway does for a post, then the wait for the turn's end. Returns ms. */
  async function turn(g: { groupId: string; userId: string }): Promise<number> {
    const t0 = performance.now();
    const message = await storeUserMessage(pool, {
      group_id: g.groupId,
      user_id: g.userId,
      sender_alias: "bench",
      content: "a question",
    });
    const turnId = message.turn_id!;
    const ended = new Promise<string>((resolve) => waiters.set(turnId, resolve));
    await publishFrame(redis, prefix, g.groupId, { type: "message", message });
    await queue.add("advance", { group_id: g.groupId });
    const reason = await ended;
    waiters.delete(turnId);
    if (reason !== "completed") throw new Error(`bench turn ended ${reason}`);
    return performance.now() - t0;
  }

  const rows: BenchRow[] = [];
  try {
    // warm-up: processes up, JIT warm (8 turns left the first figures ~40% slower than later ones)
    const warm = await makeGroup(pool);
    for (let i = 0; i < 100; i++) await turn(warm);

    // floor, LLM call and turn measured in alternating rounds, so that the machine's drift (this VM's
    // speed moves within a run) weighs on the figure and its baseline alike
    const floor = await startFloor(ctx, pool, redis);
    const llmCall = llmCaller(fake.openaiBaseUrl);
    const one = await makeGroup(pool);
    const floorSamples: number[] = [];
    const llmSamples: number[] = [];
    const lat: number[] = [];
    try {
      await floor.sample(20);
      await llmCall(10);
      for (let round = 0; round < 5; round++) {
        floorSamples.push(...(await floor.sample(30)));
        llmSamples.push(...(await llmCall(12)));
        for (let i = 0; i < 12; i++) lat.push(await turn(one));
      }
    } finally {
      await floor.close();
    }
    const floorStep = median(floorSamples);
    const llm = median(llmSamples);
    const floorTurn = 3 * (floorStep + llm) + floorStep / 2;
    rows.push({
      name: "3-step turn, one group: p50",
      value: median(lat),
      unit: "ms",
      baseline: { name: "floor: 3 × (step I/O + LLM call) + 1 hop", value: floorTurn },
      ratio: median(lat) / floorTurn,
    });
    rows.push({ name: "3-step turn, one group: p99", value: percentile(lat, 99), unit: "ms" });
    const perStep = (median(lat) - 3 * llm) / 3;
    rows.push({
      name: "orchestration overhead per step (turn p50 − 3 LLM calls) / 3",
      value: perStep,
      unit: "ms",
      baseline: {
        name: "step I/O floor: 2 queue hops + 5 KB checkpoint + insert + publish",
        value: floorStep,
      },
      ratio: perStep / floorStep,
    });

    const groups = await Promise.all(Array.from({ length: 50 }, () => makeGroup(pool)));
    const perGroup = 6;
    const t0 = performance.now();
    const all: number[] = [];
    await Promise.all(
      groups.map(async (g) => {
        for (let i = 0; i < perGroup; i++) all.push(await turn(g));
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    rows.push({
      name: "turns/s, 50 groups at once",
      value: (groups.length * perGroup) / secs,
      unit: "turns/s",
      note: `(p50 ${median(all).toFixed(1)} ms, p99 ${percentile(all, 99).toFixed(1)} ms)`,
    });

    const small = await makeGroup(pool, 10);
    const big = await makeGroup(pool, 10_000);
    const smallLat: number[] = [];
    const bigLat: number[] = [];
    for (let i = 0; i < 30; i++) {
      smallLat.push(await turn(small));
      bigLat.push(await turn(big));
    }
    rows.push({
      name: "3-step turn p50, group with 10,000 messages",
      value: median(bigLat),
      unit: "ms",
      baseline: { name: "same, group with 10 messages", value: median(smallLat) },
      ratio: median(bigLat) / median(smallLat),
    });
  } finally {
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
  }
  return rows;
}) satisfies Bench;

/**
 * The I/O floor of one orchestration step, done by hand in this process: a job hop to a worker and
 * back (2 BullMQ hops), a 5 KB checkpoint-sized insert, a message insert and a publish.
 * `sample(n)` returns n step times in ms.
 */
async function startFloor(ctx: BenchContext, pool: pg.Pool, redis: ReturnType<typeof createRedis>) {
  const prefix = ctx.prefix();
  const conn = createRedis(ctx.redisUrl, { bullmq: true });
  const a = new Queue("floor-a", { connection: conn, prefix });
  const b = new Queue("floor-b", { connection: conn, prefix });
  const done = new Map<string, () => void>();
  const wa = new Worker(
    "floor-a",
    async (job) => {
      await b.add("back", job.data, { removeOnComplete: true });
    },
    { connection: conn, prefix, concurrency: 8 },
  );
  const wb = new Worker(
    "floor-b",
    async (job) => {
      done.get((job.data as { id: string }).id)?.();
    },
    { connection: conn, prefix, concurrency: 8 },
  );
  await pool.query("create table if not exists bench_checkpoints (id uuid primary key, data bytea not null)");
  const { groupId } = await makeGroup(pool);
  const blob = Buffer.alloc(5 * 1024, 7);
  return {
    async sample(n: number): Promise<number[]> {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const id = randomUUID();
        const t0 = performance.now();
        await new Promise<void>((resolve) => {
          done.set(id, resolve);
          void a.add("go", { id }, { removeOnComplete: true });
        });
        await pool.query("insert into bench_checkpoints (id, data) values ($1, $2)", [id, blob]);
        const { message } = await insertMessage(pool, {
          id,
          group_id: groupId,
          turn_id: null,
          sender_type: "agent",
          sender_alias: "Alice",
          content: "floor",
        });
        await publishFrame(redis, prefix, groupId, { type: "message", message });
        times.push(performance.now() - t0);
        done.delete(id);
      }
      return times;
    },
    async close() {
      await Promise.all([wa.close(), wb.close()]);
      await Promise.all([a.close(), b.close()]);
      conn.disconnect();
    },
  };
}

/** One ChatOpenAI call to the instant fake (what each LLM step costs at least): n times, in ms. */
function llmCaller(baseURL: string): (n: number) => Promise<number[]> {
  const model = new ChatOpenAI({
    model: "fake",
    apiKey: "sk-bench",
    configuration: { baseURL },
    maxRetries: 0,
  });
  return async (n) => {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      for await (const _chunk of await model.stream("hello")) {
        // drain the stream, as the worker does
      }
      times.push(performance.now() - t0);
    }
    return times;
  };
}
