import { UnrecoverableError, Worker } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { testConfig } from "../../../test/support/services.ts";
import { createQueue, workerOptions } from "./queues.ts";
import { createRedis } from "./redis.ts";

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

describe("job retention", () => {
  it("a queue keeps only its last QUEUE_KEEP_COMPLETED completed and QUEUE_KEEP_FAILED failed jobs", async () => {
    const config = testConfig({ QUEUE_KEEP_COMPLETED: "100", QUEUE_KEEP_FAILED: "120" });
    const conn = createRedis(config.REDIS_URL!, { bullmq: true });
    const queue = createQueue<{ fail: boolean }>("retention", conn, config);
    closers.push(
      () => conn.disconnect(),
      () => queue.close(),
    );
    const total = 300;
    let finished = 0;
    const allFinished = new Promise<void>((resolve) => {
      const count = () => {
        if (++finished === total) resolve();
      };
      const worker = new Worker(
        "retention",
        async (job) => {
          if (job.data.fail) throw new UnrecoverableError("failing on purpose");
        },
        workerOptions(conn, config.QUEUE_PREFIX, 8),
      );
      worker.on("completed", count);
      worker.on("failed", count);
      closers.push(() => worker.close());
    });
    // added in order: jobs 0, 2, 4... complete, 1, 3, 5... fail (150 of each)
    const jobs = await queue.addBulk(
      Array.from({ length: total }, (_, i) => ({ name: "job", data: { fail: i % 2 === 1 } })),
    );
    await allFinished;

    expect(await queue.getJobCounts("completed", "failed")).toEqual({ completed: 100, failed: 120 });
    // the oldest finished jobs went, the newest stayed
    expect(await queue.getJob(jobs[0]!.id!)).toBeUndefined();
    expect(await queue.getJob(jobs[1]!.id!)).toBeUndefined();
    expect(await queue.getJobState(jobs[total - 2]!.id!)).toBe("completed");
    expect(await queue.getJobState(jobs[total - 1]!.id!)).toBe("failed");
  });
});
