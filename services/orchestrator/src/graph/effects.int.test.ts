import { randomUUID } from "node:crypto";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { testResources } from "../../../../test/support/services.ts";
import { applyEffects } from "./effects.ts";
import { route } from "./router.ts";
import type { TurnState } from "./state.ts";

const res = testResources();
afterAll(() => res.close());

/** A turn's state, as the router makes it at the start (its effects already applied). */
function turnState(): TurnState {
  const { turn } = route(null, {
    type: "start",
    turn_id: randomUUID(),
    group_id: randomUUID(),
    message: { id: randomUUID(), content: "hi" },
    agents: [],
    max_steps: 10,
  });
  return { ...turn!, outbox: [] };
}

describe("applyEffects", () => {
  it("fails the step when Redis does not take its frames in time, instead of waiting for it", async () => {
    // a connection that waits for Redis forever (BullMQ's connections never give up)
    const stuck = { publish: () => new Promise<number>(() => undefined) } as unknown as Redis;
    const deps = {
      pool: res.pool,
      redis: stuck,
      prefix: "test",
      executionQueue: {} as Queue,
      announceTimeoutMs: 100,
    };
    const started = Date.now();
    await expect(
      applyEffects(deps, turnState(), [{ type: "agent.finished", alias: "Alice" }]),
    ).rejects.toThrow(/Redis did not take the step's frames and jobs within 100 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
