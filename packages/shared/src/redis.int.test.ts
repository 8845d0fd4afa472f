import { once } from "node:events";
import type { Redis } from "ioredis";
import { afterEach, describe, expect, it, vi } from "vitest";
import { testUrls } from "../../../test/support/services.ts";
import { createProducer, createRedis } from "./redis.ts";

const clients: Redis[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});

/** Cuts the client's connection; resolves while it waits to reconnect (the first retry is 50 ms away). */
async function cut(client: Redis): Promise<void> {
  const reconnecting = once(client, "reconnecting");
  client.stream.destroy();
  await reconnecting;
}

describe("createProducer", () => {
  it("fails a command at once while Redis is away, where a BullMQ connection waits for it", async () => {
    const bullmq = createRedis(testUrls().redisUrl, { bullmq: true });
    const producer = createProducer(bullmq);
    clients.push(bullmq, producer);
    await Promise.all([once(producer, "ready"), bullmq.ping()]);

    await cut(producer);
    await expect(producer.publish("c", "x")).rejects.toThrow(/enableOfflineQueue/);

    await cut(bullmq);
    // queued until the connection is back, then sent
    await expect(bullmq.publish("c", "x")).resolves.toBe(0);
  });

  it("sends in call order (no auto-pipelining), as the BullMQ connection it comes from", async () => {
    const bullmq = createRedis(testUrls().redisUrl, { bullmq: true });
    const producer = createProducer(bullmq);
    clients.push(bullmq, producer);
    await once(producer, "ready");
    expect(bullmq.options.enableAutoPipelining).toBe(false);
    expect(producer.options.enableAutoPipelining).toBe(false);
  });

  it("delivers what it sends in call order, also across awaits that need no I/O", async () => {
    const url = testUrls().redisUrl;
    const producer = createProducer(createRedis(url, { bullmq: true }));
    const sub = createRedis(url);
    clients.push(producer, sub);
    await once(producer, "ready");
    const got: string[] = [];
    sub.on("message", (_c, m: string) => got.push(m));
    await sub.subscribe("batch");

    const sent = [producer.publish("batch", "1"), producer.publish("batch", "2")];
    // after awaits that need no I/O, as in a BullMQ add
    await Promise.resolve();
    await null;
    sent.push(producer.publish("batch", "3"));
    expect(await Promise.all(sent)).toEqual([1, 1, 1]);
    await producer.publish("batch", "4");
    await vi.waitFor(() => expect(got).toEqual(["1", "2", "3", "4"]));
  });
});
