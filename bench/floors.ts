import { randomUUID } from "node:crypto";
import { Annotation, MemorySaver, StateGraph } from "@langchain/langgraph";
import { ChatOpenAI } from "@langchain/openai";
import { createRedis, insertMessage, publishFrame, withGroupLock } from "@synapse/shared";
import { Queue, Worker } from "bullmq";
import type pg from "pg";
import { loadCallContext } from "../services/execution-worker/src/agents.ts";
import type { BenchContext } from "./support.ts";
import { makeGroup } from "./turn-stack.ts";

/**
 * The I/O floor of one orchestration step, done by hand in this process: a job hop to a worker and
 * back (2 BullMQ hops), a 5 KB checkpoint-sized insert, a message insert and a publish.
 * `sample(n)` returns n step times in ms.
 */
export async function startFloor(ctx: BenchContext, pool: pg.Pool, redis: ReturnType<typeof createRedis>) {
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
export function llmCaller(baseURL: string): (n: number) => Promise<number[]> {
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

/**
 * Parts a step adds to the I/O floor, each timed on its own in this (otherwise idle) process:
 * - `graph`: one LangGraph invoke of a one-node StateGraph (MemorySaver: the engine without I/O;
 *   the floor already has the checkpoint write). The graph is the turn's durable state, so every
 *   event is one step of it.
 * - `lock`: `withGroupLock` up to its callback (a pooled connection and the round trip that begins
 *   a transaction and takes the group's advisory lock), this design's way to run one turn per
 *   group and gather results atomically (the services read the step's state in that same round
 *   trip; the commit goes with the checkpoint write).
 * - `context`: this design's read of an LLM call's context (the team and the last 40 stored
 *   messages), by the worker before the call.
 * `sample(n)` returns the n times of each part, in ms.
 */
export async function startStepParts(pool: pg.Pool) {
  const State = Annotation.Root({ n: Annotation<number>({ reducer: (_a, b) => b, default: () => 0 }) });
  const graph = new StateGraph(State)
    .addNode("step", (s: typeof State.State) => ({ n: s.n + 1 }))
    .addEdge("__start__", "step")
    .addEdge("step", "__end__")
    .compile({ checkpointer: new MemorySaver() });
  const group = await makeGroup(pool, 40);
  let thread = randomUUID();
  let steps = 0;
  return {
    async sample(n: number): Promise<{ graph: number[]; lock: number[]; context: number[] }> {
      const out = { graph: [] as number[], lock: [] as number[], context: [] as number[] };
      for (let i = 0; i < n; i++) {
        // a turn's thread holds a few checkpoints, not thousands
        if (++steps % 8 === 0) thread = randomUUID();
        let t0 = performance.now();
        await graph.invoke({ n: i }, { configurable: { thread_id: thread }, durability: "exit" });
        out.graph.push(performance.now() - t0);

        t0 = performance.now();
        await withGroupLock(pool, group.groupId, async () => {
          out.lock.push(performance.now() - t0);
        });

        t0 = performance.now();
        await loadCallContext(pool, { group_id: group.groupId, turn_id: randomUUID(), until_seq: 40 }, 40);
        out.context.push(performance.now() - t0);
      }
      return out;
    },
  };
}
