import { randomUUID } from "node:crypto";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { testResources } from "../../../../test/support/services.ts";
import { applyEffects } from "./effects.ts";
import type { TurnState } from "./state.ts";

const res = testResources();
afterAll(() => res.close());

function turnState(): TurnState {
  return {
    turn_id: randomUUID(),
    group_id: randomUUID(),
    agents: [],
    max_steps: 10,
    steps: 0,
    phase: "orchestrator",
    runs: {},
    pending: {},
    handled: [],
    draining: false,
    usage: { input_tokens: 0, output_tokens: 0, by_agent: {} },
    ended: null,
    outbox: [],
  };
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
