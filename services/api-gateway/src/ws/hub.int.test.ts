import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { testResources } from "../../../../test/support/services.ts";
import { Hub } from "./hub.ts";

const res = testResources();
afterAll(() => res.close());

describe("Hub.close", () => {
  it("leaves the channels of its owner's subscriber that are not its own", async () => {
    const { pool, redis, subscriber } = res;
    const channel = `hub-test:${Date.now()}:other`;
    await subscriber.subscribe(channel); // the owner's own use of the connection
    const hub = new Hub({ pool, redis, subscriber, prefix: "hub-test", logger: pino({ level: "silent" }) });
    await hub.close();
    const [, count] = (await redis.pubsub("NUMSUB", channel)) as [string, number];
    expect(Number(count)).toBe(1);
  });
});
