import type { Redis } from "ioredis";
import { RateLimitedError } from "./errors.ts";

const WINDOW_MS = 60_000;

/**
 * A fixed one-minute window per key, kept in Redis so that every gateway instance shares it.
 * INCR and PEXPIRE NX run in one MULTI: the window starts with its first hit and always expires.
 */
export class RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly name: string,
    private readonly perMinute: number,
  ) {}

  /**
   * Counts one hit for `subject` (a user id or an IP address).
   * @throws RateLimitedError (429, with the seconds until the window ends) over the limit
   */
  async hit(subject: string): Promise<void> {
    const key = `${this.prefix}:ratelimit:${this.name}:${subject}`;
    const res = await this.redis.multi().incr(key).pexpire(key, WINDOW_MS, "NX").pttl(key).exec();
    const count = Number(res?.[0]?.[1] ?? 0);
    if (count <= this.perMinute) return;
    const ttl = Number(res?.[2]?.[1] ?? WINDOW_MS);
    throw new RateLimitedError(Math.max(1, Math.ceil((ttl > 0 ? ttl : WINDOW_MS) / 1000)));
  }
}
