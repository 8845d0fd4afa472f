import type { Job } from "bullmq";
import { describe, expect, it } from "vitest";
import { isFinalAttempt, RETRY_WINDOW_MS, retryDelayMs, retryPolicy } from "./job-retry.ts";

const job = (attemptsMade: number) => ({ attemptsMade, opts: { attempts: retryPolicy.attempts } }) as Job;

describe("the job retry policy", () => {
  it("doubles from 200 ms up to a 10 s cap, waiting well over a minute across its attempts", () => {
    expect([1, 2, 3, 6, 7, 19].map(retryDelayMs)).toEqual([200, 400, 800, 6400, 10_000, 10_000]);
    let total = 0;
    for (let made = 1; made < retryPolicy.attempts; made++) total += retryDelayMs(made);
    expect(total).toBe(142_600);
    expect(RETRY_WINDOW_MS).toBe(total);
  });

  it("keeps a job meeting an outage for all its attempts, and gives up on anything else after 5", () => {
    expect(isFinalAttempt(job(4), true)).toBe(false);
    expect(isFinalAttempt(job(retryPolicy.attempts - 2), true)).toBe(false);
    expect(isFinalAttempt(job(retryPolicy.attempts - 1), true)).toBe(true);
    expect(isFinalAttempt(job(3), false)).toBe(false);
    expect(isFinalAttempt(job(4), false)).toBe(true);
  });
});
