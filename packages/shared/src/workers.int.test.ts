import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { testUrls, uniquePrefix } from "../../../test/support/services.ts";
import { workerOptions } from "./queues.ts";
import { createRedis } from "./redis.ts";

const clients: Redis[] = [];
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  for (const c of clients.splice(0)) c.disconnect();
});

function connection(): Redis {
  const c = createRedis(testUrls().redisUrl, { bullmq: true });
  clients.push(c);
  return c;
}

async function until(done: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

/** How the services' BullMQ workers take jobs: stock `Worker`s with `workerOptions`. */
describe("job pickup", () => {
  it("an idle worker takes each job added, one after another", async () => {
    const prefix = uniquePrefix();
    const conn = connection();
    const queue = new Queue("q", { connection: conn, prefix });
    const done: string[] = [];
    const worker = new Worker(
      "q",
      async (job) => {
        done.push(job.name);
      },
      workerOptions(conn, prefix, 4),
    );
    closers.push(
      () => worker.close(),
      () => queue.close(),
    );
    await worker.waitUntilReady();
    for (const name of ["a", "b", "c"]) {
      await queue.add(name, {});
      await until(() => done.includes(name));
      // back at its blocking wait before the next job comes
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(done).toEqual(["a", "b", "c"]);
  });

  it("jobs released together wake every blocked one of several workers", async () => {
    const prefix = uniquePrefix();
    const queue = new Queue("q", { connection: connection(), prefix });
    closers.push(() => queue.close());
    const takenBy = new Map<string, string>();
    const workers = ["w1", "w2", "w3"].map((name) => {
      const w = new Worker(
        "q",
        async (job) => {
          takenBy.set(job.id!, name);
          // long enough that no worker takes two jobs before the others have woken up, even on a busy machine
          await new Promise((r) => setTimeout(r, 200));
        },
        { connection: connection(), prefix, concurrency: 1 },
      );
      closers.push(() => w.close());
      return w;
    });
    await Promise.all(workers.map((w) => w.waitUntilReady()));
    await new Promise((r) => setTimeout(r, 100));
    for (let round = 0; round < 2; round++) {
      // jobs added to a paused queue are released at once on resume, behind one wake-up marker
      await queue.pause();
      const jobs = await queue.addBulk(Array.from({ length: 6 }, (_, i) => ({ name: "j", data: { i } })));
      await queue.resume();
      await until(() => jobs.every((j) => takenBy.has(j.id!)));
      // all taken, and by every worker, not by the first one alone
      expect(new Set(jobs.map((j) => takenBy.get(j.id!)))).toEqual(new Set(["w1", "w2", "w3"]));
    }
  });

  it("a worker that took the last ready job still runs a delayed one on time, and later ones", async () => {
    const prefix = uniquePrefix();
    const conn = connection();
    const queue = new Queue("q", { connection: conn, prefix });
    const ranAt = new Map<string, number>();
    const worker = new Worker(
      "q",
      async (job) => {
        ranAt.set(job.name, Date.now());
      },
      workerOptions(conn, prefix, 4),
    );
    closers.push(
      () => worker.close(),
      () => queue.close(),
    );
    await worker.waitUntilReady();
    const added = Date.now();
    await queue.add("later", {}, { delay: 300 });
    await queue.add("now", {});
    await until(() => ranAt.has("later"));
    expect(ranAt.get("now")).toBeDefined();
    expect(ranAt.get("later")! - added).toBeGreaterThanOrEqual(300);
    expect(ranAt.get("later")! - added).toBeLessThan(1500);
    // drained and blocked again: a job added now is still taken
    await queue.add("after", {});
    await until(() => ranAt.has("after"));
    expect(ranAt.has("after")).toBe(true);
  });
});
