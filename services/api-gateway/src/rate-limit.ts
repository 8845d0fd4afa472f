import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Redis } from "ioredis";
import { RateLimitedError } from "./errors.ts";

const WINDOW_MS = 60_000;

/** Options of {@link registerRateLimit}. */
export interface RateLimitOptions {
  redis: Redis;
  /** the deployment's key prefix (`QUEUE_PREFIX`) */
  prefix: string;
  /** the limit's name in its Redis keys: `<prefix>:ratelimit:<name>:<subject>` */
  name: string;
  perMinute: number;
  /** whom a request counts against: a user id or an IP address */
  subject: (req: FastifyRequest) => string;
}

/** Counts one hit of the request's subject. @throws RateLimitedError (429) over the limit */
export type RateLimitCheck = (req: FastifyRequest) => Promise<void>;

/**
 * A fixed one-minute window per subject, kept in Redis (by `@fastify/rate-limit`'s Redis store)
 * so that every gateway instance shares it; registered in the scope of `app` (a route plugin).
 * The routes call the check themselves rather than through a hook, so that a hit is counted where
 * it always was: after the membership check (a stranger gets 404 and spends nothing), and with the
 * same `{detail, code}` 429 as every other error. A Redis that cannot be reached fails the request
 * (skipOnError is off): the error handler answers 503, as for any other Redis command.
 */
export async function registerRateLimit(
  app: FastifyInstance,
  opts: RateLimitOptions,
): Promise<RateLimitCheck> {
  await app.register(rateLimit, {
    global: false,
    redis: opts.redis,
    nameSpace: `${opts.prefix}:ratelimit:${opts.name}:`,
    max: opts.perMinute,
    timeWindow: WINDOW_MS,
    keyGenerator: opts.subject,
    skipOnError: false,
  });
  const limit = app.createRateLimit();
  return async (req) => {
    const r = await limit(req);
    if (!r.isAllowed && r.isExceeded) throw new RateLimitedError(Math.max(1, r.ttlInSeconds));
  };
}
