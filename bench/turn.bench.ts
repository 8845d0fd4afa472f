import { skipUntracedRunTrees } from "@synapse/shared/langchain-runtime";
import { llmCaller, startFloor, startStepParts } from "./floors.ts";
import { type Bench, type BenchContext, type BenchRow, median, percentile } from "./support.ts";
import { startTurnStack } from "./turn-stack.ts";

/**
 * A 3-step turn (user → Orchestrator → one agent → Orchestrator completes) through the real
 * orchestrator and execution-worker processes, with an instant fake LLM on loopback (the real
 * ChatOpenAI client calls it). Next to it, in the same run, the I/O floor of one step done by hand.
 */
export default (async (ctx: BenchContext): Promise<BenchRow[]> => {
  // the in-process floor runs LangChain as the services' main.ts do
  skipUntracedRunTrees({ tracing: false });
  const stack = await startTurnStack(ctx);
  const { pool, redis, fake, turn } = stack;

  const rows: BenchRow[] = [];
  try {
    // warm-up: processes up, JIT warm (too short a warm-up leaves the first figures much slower)
    const warm = await stack.makeGroup();
    for (let i = 0; i < 100; i++) await turn(warm);

    // floor, LLM call and turn measured in alternating rounds, so that the machine's drift (this VM's
    // speed moves within a run) weighs on the figure and its baseline alike
    const floor = await startFloor(ctx, pool, redis);
    const llmCall = llmCaller(fake.openaiBaseUrl);
    const stepParts = await startStepParts(pool);
    const one = await stack.makeGroup();
    const floorSamples: number[] = [];
    const llmSamples: number[] = [];
    const parts = { graph: [] as number[], lock: [] as number[], context: [] as number[] };
    const lat: number[] = [];
    try {
      await floor.sample(20);
      await llmCall(10);
      await stepParts.sample(20);
      for (let round = 0; round < 5; round++) {
        floorSamples.push(...(await floor.sample(30)));
        llmSamples.push(...(await llmCall(12)));
        const p = await stepParts.sample(30);
        for (const k of ["graph", "lock", "context"] as const) parts[k].push(...p[k]);
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
    const [graphMs, lockMs, contextMs] = [median(parts.graph), median(parts.lock), median(parts.context)];
    const stepWithParts = floorStep + graphMs + lockMs + contextMs;
    rows.push({
      name: "step floor + a LangGraph invoke + this design's group-lock round trip and context read",
      value: stepWithParts,
      unit: "ms",
      baseline: { name: "step I/O floor", value: floorStep },
      ratio: stepWithParts / floorStep,
      note: `(invoke ${graphMs.toFixed(2)}, lock ${lockMs.toFixed(2)}, context ${contextMs.toFixed(2)} ms)`,
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
