import { rmSync } from "node:fs";
import path from "node:path";
import {
  createPool,
  type createRedis,
  type Message,
  migrateUp,
  publishFrame,
  storeUserMessage,
} from "@synapse/shared";
import type { Queue } from "bullmq";
import type pg from "pg";
import { startPostgres, startRedis, throwawayDir } from "../scripts/lib/local-services.ts";

/** One line of the report: a figure, and where it has one, the baseline measured in the same run. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  /** value / baseline.value, or whatever ratio the benchmark states in `note` */
  ratio?: number;
  note?: string;
}

export interface BenchContext {
  databaseUrl: string;
  redisUrl: string;
  /** A fresh queue/pub-sub prefix per call. */
  prefix(): string;
}

/** A benchmark module under bench/ named `*.bench.ts` default-exports one of these. */
export type Bench = (ctx: BenchContext) => Promise<BenchRow[]>;

/** Starts throwaway PostgreSQL (durable settings, as in production) and Redis for a bench run. */
export async function startBenchServices(): Promise<
  BenchContext & { pids: { postgres?: number; redis?: number }; stop(): Promise<void> }
> {
  const dir = throwawayDir("synapse-bench-");
  const [pg, redis] = await Promise.all([
    startPostgres({ dataDir: path.join(dir, "pg") }),
    startRedis({ dataDir: path.join(dir, "redis"), ephemeral: true, allowInstall: true }),
  ]);
  const pool = createPool(pg.url, { max: 1 });
  await migrateUp(pool);
  await pool.end();
  let n = 0;
  return {
    databaseUrl: pg.url,
    redisUrl: redis.url,
    prefix: () => `bench${process.pid}x${n++}`,
    pids: { postgres: pg.child.pid, redis: redis.child.pid },
    async stop() {
      await Promise.all([pg.stop(), redis.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Percentile of a sample (nearest rank). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

export const median = (values: number[]) => percentile(values, 50);

/**
 * What the gateway's message route does once its checks have passed: store the message with its
 * turn, publish it, enqueue the turn's start (`stored` runs between the store and the publish).
 */
export async function postAsGateway(
  deps: { pool: pg.Pool; redis: ReturnType<typeof createRedis>; queue: Queue; prefix: string },
  post: { groupId: string; userId: string; senderAlias: string; content: string },
  stored?: (message: Message) => void,
): Promise<Message> {
  const message = await storeUserMessage(deps.pool, {
    group_id: post.groupId,
    user_id: post.userId,
    sender_alias: post.senderAlias,
    content: post.content,
  });
  stored?.(message);
  await publishFrame(deps.redis, deps.prefix, post.groupId, { type: "message", message });
  await deps.queue.add("advance", { group_id: post.groupId });
  return message;
}
