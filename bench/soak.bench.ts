import { type Bench, type BenchContext, type BenchRow, median } from "./support.ts";
import { startTurnStack } from "./turn-stack.ts";

/**
 * Redis memory over many turns: `BENCH_SOAK_TURNS` (default 3000) 3-step turns through the real
 * orchestrator and execution-worker processes (turn-stack.ts), `BENCH_SOAK_GROUPS` groups at a time
 * (default 5), with Redis's `used_memory` sampled every `BENCH_SOAK_EVERY` turns (default 250).
 * Finished jobs are kept up to a count per queue, so memory must stop growing once the queues hold
 * that many: it passes when the growth from turn 1,000 to the end stays under {@link FLAT_MIB}.
 * `QUEUE_KEEP_COMPLETED` / `QUEUE_KEEP_FAILED`, when set, reach the services.
 */
const FLAT_MIB = 1;
const FROM_TURN = 1000;
const MIB = 1024 * 1024;

const positive = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
};

export default (async (ctx: BenchContext): Promise<BenchRow[]> => {
  const turns = positive("BENCH_SOAK_TURNS", 3000);
  const every = positive("BENCH_SOAK_EVERY", 250);
  const width = positive("BENCH_SOAK_GROUPS", 5);
  const stack = await startTurnStack(ctx);
  const log = (line: string) => process.stderr.write(`soak: ${line}\n`);
  try {
    const usedMemory = async () => {
      const info = await stack.redis.info("memory");
      return Number(/^used_memory:(\d+)/m.exec(info)?.[1]);
    };
    const samples: { turn: number; bytes: number }[] = [];
    const sample = async (turn: number) => {
      const bytes = await usedMemory();
      samples.push({ turn, bytes });
      log(`turn ${String(turn).padStart(6)}  used_memory ${(bytes / MIB).toFixed(2)} MiB`);
    };

    const groups = await Promise.all(Array.from({ length: width }, () => stack.makeGroup()));
    const latencies: number[] = [];
    const t0 = performance.now();
    await sample(0);
    let done = 0;
    while (done < turns) {
      // a wave of at most one turn per group, so that samples are taken between turns
      const wave = groups.slice(0, Math.min(width, turns - done));
      latencies.push(...(await Promise.all(wave.map((g) => stack.turn(g)))));
      const before = done;
      done += wave.length;
      if (Math.floor(done / every) > Math.floor(before / every) || done === turns) await sample(done);
    }
    const secs = (performance.now() - t0) / 1000;

    const from = samples.find((s) => s.turn >= FROM_TURN);
    const last = samples.at(-1)!;
    const first = samples[0]!;
    if (!from || from === last) {
      log(`FAIL: ${turns} turns are too few to judge growth after turn ${FROM_TURN}`);
      return [];
    }
    const growth = (last.bytes - from.bytes) / MIB;
    const verdict = growth < FLAT_MIB ? "PASS" : "FAIL";
    log(
      `${verdict}: used_memory grew ${growth.toFixed(2)} MiB from turn ${from.turn} to turn ${last.turn}` +
        ` (flat: under ${FLAT_MIB} MiB); ${((from.bytes - first.bytes) / MIB).toFixed(2)} MiB over the first ${from.turn}`,
    );
    return [
      {
        name: `Redis used_memory growth, turn ${from.turn} → ${last.turn}`,
        value: growth,
        unit: "MiB",
        baseline: { name: `growth over turns 0 → ${from.turn}`, value: (from.bytes - first.bytes) / MIB },
        note: `${verdict} (flat: under ${FLAT_MIB} MiB; ${(last.bytes / MIB).toFixed(1)} MiB at the end)`,
      },
      {
        name: `turns/s, ${width} groups at once, ${turns} turns`,
        value: turns / secs,
        unit: "turns/s",
        note: `(p50 ${median(latencies).toFixed(1)} ms)`,
      },
    ];
  } finally {
    await stack.close();
  }
}) satisfies Bench;
