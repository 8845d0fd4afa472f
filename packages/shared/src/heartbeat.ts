import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";

export type ProcessRole = "gateway" | "orchestrator" | "worker";

const TTL_MS = 10_000;
const EVERY_MS = 3_000;

function key(prefix: string, role: ProcessRole): string {
  return `${prefix}:procs:${role}`;
}

/**
 * Registers this process in a sorted set scored by its last beat, so `/ready` can count live
 * processes of each role. Returns a function that stops beating and removes the entry.
 */
export function startHeartbeat(redis: Redis, prefix: string, role: ProcessRole): () => Promise<void> {
  const id = `${process.pid}:${randomUUID()}`;
  const beat = () => redis.zadd(key(prefix, role), Date.now(), id).catch(() => undefined);
  void beat();
  const timer = setInterval(beat, EVERY_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await redis.zrem(key(prefix, role), id).catch(() => undefined);
  };
}

/** Number of processes of `role` that beat within the last 10 s (stale entries are pruned). */
export async function countLive(redis: Redis, prefix: string, role: ProcessRole): Promise<number> {
  const k = key(prefix, role);
  const now = Date.now();
  const [, count] = (await redis
    .multi()
    .zremrangebyscore(k, 0, now - TTL_MS)
    .zcount(k, now - TTL_MS, "+inf")
    .exec()) as [[Error | null, number], [Error | null, number]];
  return count[1];
}
