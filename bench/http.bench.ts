import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import {
  createLogger,
  createPool,
  createQueue,
  createRedis,
  loadConfig,
  ORCHESTRATOR_QUEUE,
} from "@synapse/shared";
import { buildApp } from "../services/api-gateway/src/app.ts";
import { type Bench, type BenchRow, percentile, postAsGateway } from "./support.ts";

/**
 * POST /groups/{id}/messages through the whole gateway — HTTP, JWT, membership,
 * rate limit, validation, the insert + turn transaction, publish, enqueue — with 50 connections
 * (autocannon in worker threads, so the client does not share the server's event loop). The floor is
 * the same insert + publish + enqueue done directly at the same concurrency, on a pool of the same
 * size, in the same run. Target: at least half the floor's throughput.
 */
const CONNECTIONS = 50;
const DURATION_S = 10;
const WARMUP_S = 2;
const POOL_SIZE = 20; // the gateway's default (createPool)

interface AutocannonResult {
  duration: number;
  "2xx": number;
  non2xx: number;
  errors: number;
  latency: { p50: number; p99: number };
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

/** The floor: `CONNECTIONS` loops doing exactly the route's writes, for `seconds`. */
async function floor(
  run: (i: number) => Promise<void>,
  seconds: number,
): Promise<{ rps: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, worker) => {
      for (let i = 0; performance.now() < end; i++) {
        const t0 = performance.now();
        await run(worker * 1_000_000 + i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  return { rps: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

const bench: Bench = async (ctx) => {
  const autocannon = (await import("autocannon" as string)).default as Autocannon;
  const config = loadConfig(
    {
      NODE_ENV: "test",
      LOG_LEVEL: "warn",
      DATABASE_URL: ctx.databaseUrl,
      REDIS_URL: ctx.redisUrl,
      QUEUE_PREFIX: ctx.prefix(),
      SECRET_KEY: "bench-secret-key-that-is-long-enough-0123456789",
      RATE_LIMIT_MESSAGES_PER_MINUTE: "100000",
    },
    "/nonexistent-dir-for-dotenv",
  );
  const prefix = config.QUEUE_PREFIX;
  const pool = createPool(ctx.databaseUrl, { max: POOL_SIZE });
  const redis = createRedis(ctx.redisUrl);
  const subscriber = createRedis(ctx.redisUrl);
  const queueConnection = createRedis(ctx.redisUrl, { bullmq: true });
  const queue = createQueue(ORCHESTRATOR_QUEUE, queueConnection, config);
  const app = await buildApp({
    config,
    pool,
    redis,
    subscriber,
    logger: createLogger(config, "bench"),
    orchestratorQueue: queue,
  });
  try {
    const base = await app.listen({ host: "127.0.0.1", port: 0 });
    const call = async (path: string, body: unknown, token?: string) => {
      const res = await fetch(`${base}${path}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<Record<string, string>>;
    };
    const email = `bench-${randomUUID()}@example.com`;
    const user = await call("/auth/register", { email, password: "bench-password" });
    const { access_token: token } = await call("/auth/login", { email, password: "bench-password" });
    const httpGroup = (await call("/groups", { name: "bench http" }, token)).id!;
    const floorGroup = (await call("/groups", { name: "bench floor" }, token)).id!;

    // the floor: the route's writes, without HTTP, auth, membership, rate limit or validation
    const direct = async (groupId: string) => {
      await postAsGateway(
        { pool, redis, queue, prefix },
        { groupId, userId: user.id!, senderAlias: email, content: "hello from the bench" },
      );
    };
    await floor(() => direct(floorGroup), WARMUP_S);
    const raw = await floor(() => direct(floorGroup), DURATION_S);

    const load = (seconds: number) =>
      autocannon({
        url: `${base}/groups/${httpGroup}/messages`,
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ content: "hello from the bench" }),
        connections: CONNECTIONS,
        workers: 1,
        duration: seconds,
      });
    await load(WARMUP_S);
    const http = await load(DURATION_S);
    if (http.non2xx > 0 || http.errors > 0)
      throw new Error(`bench: ${http.non2xx} non-2xx answers, ${http.errors} errors`);
    const rps = http["2xx"] / http.duration;
    // autocannon drops its sockets when time is up; let the server finish what it had accepted
    for (let i = 0; i < 100 && pool.totalCount > pool.idleCount; i++)
      await new Promise((r) => setTimeout(r, 50));

    const rows: BenchRow[] = [
      {
        name: `POST /groups/{id}/messages, ${CONNECTIONS} connections`,
        value: rps,
        unit: "req/s",
        baseline: { name: "direct insert+publish+enqueue", value: raw.rps },
        ratio: rps / raw.rps,
        note: rps / raw.rps >= 0.5 ? "(target ≥ 0.50: met)" : "(target ≥ 0.50: NOT met)",
      },
      {
        name: "p50 latency",
        value: http.latency.p50,
        unit: "ms",
        baseline: { name: "direct", value: raw.p50 },
        ratio: http.latency.p50 / raw.p50,
      },
      {
        name: "p99 latency",
        value: http.latency.p99,
        unit: "ms",
        baseline: { name: "direct", value: raw.p99 },
        ratio: http.latency.p99 / raw.p99,
      },
    ];
    return rows;
  } finally {
    await app.close();
    await queue.close();
    queueConnection.disconnect();
    redis.disconnect();
    subscriber.disconnect();
    await pool.end();
  }
};

export default bench;
