import { performance } from "node:perf_hooks";
import { createPool, createRedis, groupChannel, loadConfig, publishFrame } from "@synapse/shared";
import WebSocket from "ws";
import { seedGroup, spawnGateway, storeMessage } from "../services/api-gateway/test/ws/harness.ts";
import { type Bench, type BenchRow, percentile } from "./support.ts";

/**
 * WebSocket fan-out: 1,000 sockets of one group on one gateway process (a child
 * process, so the clients' work does not count as the server's). A stored message is published and
 * timed until it has reached every socket; the baseline is a raw Redis PUBLISH to one subscriber,
 * measured in the same run. Memory per idle socket is the gateway's growth from 0 to 1,000 sockets.
 */
const SOCKETS = 1000;
const ROUNDS = 200;
const WARMUP = 20;
const SEQ = /^\{"type":"message","message":\{.*?"seq":(\d+),/;

interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
}

function askMemory(child: import("node:child_process").ChildProcess): Promise<Memory> {
  return new Promise((resolve) => {
    child.once("message", (m) => resolve((m as { memory: Memory }).memory));
    child.send("memory");
  });
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

const bench: Bench = async (ctx) => {
  const config = loadConfig(
    {
      NODE_ENV: "test",
      LOG_LEVEL: "silent",
      DATABASE_URL: ctx.databaseUrl,
      REDIS_URL: ctx.redisUrl,
      QUEUE_PREFIX: ctx.prefix(),
      SECRET_KEY: "bench-secret-key-that-is-long-enough-0123456789",
    },
    "/nonexistent-dir-for-dotenv",
  );
  const prefix = config.QUEUE_PREFIX;
  const pool = createPool(ctx.databaseUrl, { max: 4 });
  const redis = createRedis(ctx.redisUrl);
  const gateway = await spawnGateway(config, ["--expose-gc"]);
  const sockets: WebSocket[] = [];
  try {
    // baseline: raw PUBLISH → one subscriber, same payload size
    const { groupId, users } = await seedGroup(config, pool, 10);
    const sample = await storeMessage(pool, groupId, "warm-up");
    const payload = JSON.stringify({ type: "message", message: sample });
    const sub = createRedis(ctx.redisUrl);
    const rawChannel = `${prefix}:raw`;
    let onRaw: (() => void) | undefined;
    sub.on("message", () => onRaw?.());
    await sub.subscribe(rawChannel);
    const raw: number[] = [];
    for (let i = 0; i < ROUNDS + WARMUP; i++) {
      const got = new Promise<void>((r) => {
        onRaw = r;
      });
      const t0 = performance.now();
      await redis.publish(rawChannel, payload);
      await got;
      if (i >= WARMUP) raw.push(performance.now() - t0);
    }
    sub.disconnect();

    // 1,000 sockets, opened in batches
    await pause(200);
    const before = await askMemory(gateway.child);
    let arrivals: ((seq: number) => void)[] = [];
    const connectStart = performance.now();
    for (let i = 0; i < SOCKETS; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, SOCKETS - i) }, (_, j) => {
          const user = users[(i + j) % users.length]!;
          const ws = new WebSocket(`${gateway.url}/ws/${groupId}?token=${user.token}`, {
            skipUTF8Validation: true,
          });
          const k = sockets.push(ws) - 1;
          // the clients share this process's CPU with the timing: read the seq without a full parse
          ws.on("message", (data) => {
            const m = SEQ.exec(data.toString());
            if (m) arrivals[k]?.(Number(m[1]));
          });
          return new Promise<void>((resolve, reject) => {
            ws.once("open", () => resolve());
            ws.once("error", reject);
          });
        }),
      );
    }
    const connectMs = performance.now() - connectStart;
    // every socket live: one message must reach all of them
    const awaitAll = (seq: number, t0: number, perSocket: number[]) => {
      let left = SOCKETS;
      return new Promise<number>((resolve) => {
        arrivals = sockets.map(() => {
          let done = false;
          return (s: number) => {
            if (done || s !== seq) return;
            done = true;
            perSocket.push(performance.now() - t0);
            if (--left === 0) resolve(performance.now() - t0);
          };
        });
      });
    };
    for (let ready = false; !ready; ) {
      // sockets without ?after= get only what is published once they are live: retry until all have it
      const m = await storeMessage(pool, groupId, "ready?");
      const all = awaitAll(m.seq, performance.now(), []);
      await publishFrame(redis, prefix, groupId, { type: "message", message: m });
      ready = (await Promise.race([all.then(() => true), pause(2000).then(() => false)])) === true;
    }
    await pause(500);
    const idle = await askMemory(gateway.child);

    const perSocket: number[] = [];
    const lastSocket: number[] = [];
    for (let i = 0; i < ROUNDS + WARMUP; i++) {
      const m = await storeMessage(pool, groupId, `bench ${i}`);
      const sink: number[] = [];
      const t0 = performance.now();
      const all = awaitAll(m.seq, t0, sink);
      await publishFrame(redis, prefix, groupId, { type: "message", message: m });
      const ms = await all;
      if (i >= WARMUP) {
        lastSocket.push(ms);
        perSocket.push(...sink);
      }
      await pause(5);
    }
    const channelSubs = (await redis.pubsub("NUMSUB", groupChannel(prefix, groupId))) as [string, number];

    const rawP50 = percentile(raw, 50);
    const rawP99 = percentile(raw, 99);
    const rows: BenchRow[] = [
      {
        name: `publish → delivery, each of ${SOCKETS} sockets, p50`,
        value: percentile(perSocket, 50),
        unit: "ms",
        baseline: { name: "raw PUBLISH → 1 subscriber p50", value: rawP50 },
        ratio: percentile(perSocket, 50) / rawP50,
      },
      {
        name: `publish → delivery, each of ${SOCKETS} sockets, p99`,
        value: percentile(perSocket, 99),
        unit: "ms",
        baseline: { name: "raw PUBLISH → 1 subscriber p99", value: rawP99 },
        ratio: percentile(perSocket, 99) / rawP99,
        note: "(target ≤ 50 ms)",
      },
      {
        name: `publish → last of ${SOCKETS} sockets, p50`,
        value: percentile(lastSocket, 50),
        unit: "ms",
        baseline: { name: "raw PUBLISH → 1 subscriber p50", value: rawP50 },
        ratio: percentile(lastSocket, 50) / rawP50,
      },
      {
        name: `publish → last of ${SOCKETS} sockets, p99`,
        value: percentile(lastSocket, 99),
        unit: "ms",
        baseline: { name: "raw PUBLISH → 1 subscriber p99", value: rawP99 },
        ratio: percentile(lastSocket, 99) / rawP99,
        note: `(${ROUNDS} publishes; ${channelSubs[1]} Redis subscription for the group)`,
      },
      {
        name: "gateway RSS per idle socket",
        value: (idle.rss - before.rss) / SOCKETS / 1024,
        unit: "KiB",
        note: `(RSS ${(before.rss / 2 ** 20).toFixed(0)} → ${(idle.rss / 2 ** 20).toFixed(0)} MiB)`,
      },
      {
        name: "gateway heap + external per idle socket",
        value: (idle.heapUsed + idle.external - before.heapUsed - before.external) / SOCKETS / 1024,
        unit: "KiB",
        note: "(after a full GC)",
      },
      {
        name: `open ${SOCKETS} sockets (100 at a time)`,
        value: connectMs,
        unit: "ms",
      },
    ];
    return rows;
  } finally {
    for (const ws of sockets) ws.terminate();
    await gateway.close();
    redis.disconnect();
    await pool.end();
  }
};

export default bench;
