import { randomUUID } from "node:crypto";
import { ChatOpenAI } from "@langchain/openai";
import { createRedis, insertMessage, publishFrame } from "@synapse/shared";
import { Queue, Worker } from "bullmq";
import type pg from "pg";
import { type Bench, type BenchContext, type BenchRow, median, percentile } from "./support.ts";
import { makeGroup, startTurnStack } from "./turn-stack.ts";

/**
 * A 3-step turn (user → Orchestrator → one agent → Orchestrator completes) through the real
 * orchestrator and execution-worker processes, with an instant fake LLM on loopback (the real
 * ChatOpenAI client calls it). Next to it, in the same run, the I/O floor of one step done by hand.
 */
export default (async (ctx: BenchContext): Promise<BenchRow[]> => {
  const stack = await startTurnStack(ctx);
  const { pool, redis, fake, turn } = stack;

  const rows: BenchRow[] = [];
  try {
    // warm-up: processes up, JIT warm (8 turns left the first figures ~40% slower than later ones)
    const warm = await stack.makeGroup();
    for (let i = 0; i < 100; i++) await turn(warm);

    // floor, LLM call and turn measured in alternating rounds, so that the machine's drift (this VM's
    // speed moves within a run) weighs on the figure and its baseline alike
    const floor = await startFloor(ctx, pool, redis);
    const llmCall = llmCaller(fake.openaiBaseUrl);
    const one = await stack.makeGroup();
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

    const groups = await Promise.all(Array.from({ length: 50 }, () => stack.makeGroup()));
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

    const small = await stack.makeGroup(10);
    const big = await stack.makeGroup(10_000);
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
    await stack.close();
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
