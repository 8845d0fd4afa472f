import { once } from "node:events";
import type { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
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

  it("keeps the BullMQ connection's patched scripts, and sends in call order (no auto-pipelining)", async () => {
    const bullmq = createRedis(testUrls().redisUrl, { bullmq: true });
    const producer = createProducer(bullmq);
    clients.push(bullmq, producer);
    await once(producer, "ready");
    expect(producer.options.enableAutoPipelining).toBe(false);
    expect(Object.keys(producer.options.scripts ?? {})).toContain("moveToActive:6.7.0");
  });
});
