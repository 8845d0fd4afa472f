import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { testUrls, uniquePrefix } from "../../../test/support/services.ts";
import { bullmqScripts, JobWorker } from "./bullmq-scripts.ts";
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

/**
 * Counts the commands this process sends with `prefix` in their arguments (the Redis is shared with
 * other test files, so its own statistics would count theirs too).
 */
function countCommands(prefix: string): { counts: Map<string, number>; stop(): void } {
  const counts = new Map<string, number>();
  const original = Redis.prototype.sendCommand;
  Redis.prototype.sendCommand = function (this: Redis, command, stream) {
    const c = command as unknown as { name: string; args: unknown[] };
    if (c.args.some((a) => String(a).includes(prefix))) counts.set(c.name, (counts.get(c.name) ?? 0) + 1);
    return original.call(this, command, stream);
  };
  return { counts, stop: () => (Redis.prototype.sendCommand = original) };
}

describe("BullMQ job-taking scripts", () => {
  it("the pinned BullMQ is patched: the marker is re-added only while jobs are left", () => {
    const scripts = bullmqScripts();
    expect(Object.keys(scripts).sort()).toEqual([
      "moveToActive:6.7.0",
      "moveToDelayed:6.7.0",
      "moveToFinished:6.7.0",
    ]);
    for (const s of Object.values(scripts)) expect(s.lua).toContain('rcall("LLEN", keyPrefix .. "wait") > 0');
  });

  it("after a job is taken, the marker says what is left: jobs, the next delayed one, or nothing", async () => {
    const prefix = uniquePrefix();
    const conn = connection();
    const queue = new Queue("q", { connection: conn, prefix });
    // a worker without its loop: each getNextJob is one moveToActive
    const worker = new Worker("q", null, { connection: conn, prefix, autorun: false });
    closers.push(
      () => worker.close(),
      () => queue.close(),
    );
    const markerKey = `${prefix}:q:marker`;
    const takeOneAndReadMarker = async () => {
      await conn.del(markerKey);
      expect(await worker.getNextJob(`t-${Math.random()}`, { block: false })).toBeDefined();
      return conn.zrange(markerKey, "0", "-1", "WITHSCORES");
    };

    await queue.addBulk([
      { name: "a", data: {} },
      { name: "b", data: {} },
    ]);
    expect(await takeOneAndReadMarker()).toEqual(["0", "0"]); // one job left: wake another worker
    expect(await takeOneAndReadMarker()).toEqual([]); // none left: nobody to wake (stock: "0")

    const delayed = await queue.add("later", {}, { delay: 60_000 });
    await queue.add("now", {});
    const [member, score] = await takeOneAndReadMarker();
    // only a delayed job left: its marker, with its time, as BullMQ's delay marker
    expect(member).toBe("1");
    expect(Math.abs(Number(score) - (delayed.timestamp + 60_000))).toBeLessThan(5);
  });

  it.each([
    // add + take + finish (it would take a next job) + one miss; stock scripts: one more miss
    { kind: "stock Worker", Kind: Worker, scripts: 4 },
    // add + take + finish: told the job was the last, it goes back to its blocking wait at once
    { kind: "JobWorker", Kind: JobWorker as typeof Worker, scripts: 3 },
  ])("an idle $kind takes a job without waking itself again for nothing", async ({ Kind, scripts }) => {
    const prefix = uniquePrefix();
    const conn = connection();
    const queue = new Queue("q", { connection: conn, prefix });
    const done: string[] = [];
    let resolve: () => void = () => undefined;
    const worker = new Kind(
      "q",
      async (job) => {
        done.push(job.id!);
        resolve();
      },
      { connection: conn, prefix, concurrency: 4 },
    );
    closers.push(
      () => worker.close(),
      () => queue.close(),
    );
    await worker.waitUntilReady();
    const one = () => new Promise<void>((r) => (resolve = r));
    // first job: the worker reaches its blocking wait
    let next = one();
    await queue.add("a", {});
    await next;
    await new Promise((r) => setTimeout(r, 100));

    const sent = countCommands(prefix);
    next = one();
    await queue.add("b", {});
    await next;
    await new Promise((r) => setTimeout(r, 200));
    sent.stop();
    expect(sent.counts.get("evalsha")).toBe(scripts);
    // blocking again once (the call that woke up for the job was sent before); stock BullMQ: twice,
    // as the marker it re-added wakes the first one up at once
    expect(sent.counts.get("bzpopmin")).toBe(1);
    expect(done).toHaveLength(2);
  });

  it.each([
    { kind: "stock Workers", Kind: Worker },
    { kind: "JobWorkers", Kind: JobWorker as typeof Worker },
  ])("jobs released together wake every blocked one of several $kind", async ({ Kind }) => {
    const prefix = uniquePrefix();
    const queue = new Queue("q", { connection: connection(), prefix });
    closers.push(() => queue.close());
    const takenBy = new Map<string, string>();
    const workers = ["w1", "w2", "w3"].map((name) => {
      const w = new Kind(
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
      // jobs added to a paused queue are released at once on resume, behind one marker: one worker
      // wakes up, and only the marker re-added while jobs are left wakes the others
      await queue.pause();
      const jobs = await queue.addBulk(Array.from({ length: 6 }, (_, i) => ({ name: "j", data: { i } })));
      await queue.resume();
      const deadline = Date.now() + 5000;
      while (jobs.some((j) => !takenBy.has(j.id!)) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      // all taken, and by every worker, not by the first one alone
      expect(new Set(jobs.map((j) => takenBy.get(j.id!)))).toEqual(new Set(["w1", "w2", "w3"]));
    }
  });

  it("a JobWorker that took the last ready job still runs a delayed one on time, and later ones", async () => {
    const prefix = uniquePrefix();
    const conn = connection();
    const queue = new Queue("q", { connection: conn, prefix });
    const ranAt = new Map<string, number>();
    const worker = new JobWorker(
      "q",
      async (job) => {
        ranAt.set(job.name, Date.now());
      },
      { connection: conn, prefix, concurrency: 4 },
    );
    closers.push(
      () => worker.close(),
      () => queue.close(),
    );
    await worker.waitUntilReady();
    const added = Date.now();
    await queue.add("later", {}, { delay: 300 });
    await queue.add("now", {});
    const until = Date.now() + 5000;
    while (!ranAt.has("later") && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(ranAt.get("now")).toBeDefined();
    expect(ranAt.get("later")! - added).toBeGreaterThanOrEqual(300);
    expect(ranAt.get("later")! - added).toBeLessThan(1500);
    // drained and blocked again: a job added now is still taken
    await queue.add("after", {});
    while (!ranAt.has("after") && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(ranAt.has("after")).toBe(true);
  });
});
