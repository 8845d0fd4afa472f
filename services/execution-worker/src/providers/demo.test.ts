import { describe, expect, it } from "vitest";
import type { AgentRow } from "../agents.ts";
import { DemoChatModel, findExpression } from "./demo.ts";
import type { ProviderContext } from "./types.ts";

describe("findExpression", () => {
  it.each([
    ["what is 12 * (3 + 4)?", "12 * (3 + 4)"],
    ["compute 2+2 please", "2+2"],
    ["(5 - 1) / 2 is what", "(5 - 1) / 2"],
    ["1,000 * 3", "1000 * 3"],
  ])("%j → %j", (text, want) => {
    expect(findExpression(text)).toBe(want);
  });

  it.each(["hello there", "in 2026 we met", "call me at 5"])("finds none in %j", (text) => {
    expect(findExpression(text)).toBeUndefined();
  });
});

const agent: AgentRow = {
  id: "a1",
  group_id: "g1",
  alias: "helper",
  role_prompt: "",
  provider: "demo",
  model: "demo",
  temperature: 0,
  tools: [],
  is_orchestrator: false,
};
const ctx: ProviderContext = {
  agent,
  team: [agent],
  history: [
    {
      id: "m1",
      seq: 1,
      sender_type: "user",
      sender_alias: "alice@example.com",
      content: "hello there",
      tool_calls: null,
      tool_call_id: null,
      meta: null,
    },
  ],
};

/** When each non-empty chunk of a demo reply arrived, in ms from the start of the call. */
async function arrivals(wordDelayMs: number, signal?: AbortSignal): Promise<number[]> {
  const start = performance.now();
  const out: number[] = [];
  for await (const chunk of await new DemoChatModel(ctx, [], { wordDelayMs }).stream([], { signal }))
    if (chunk.text) out.push(performance.now() - start);
  return out;
}

describe("demo pacing", () => {
  it("pauses wordDelayMs between words", async () => {
    const at = await arrivals(25);
    expect(at.length).toBeGreaterThan(10);
    // timers may fire a millisecond early, never much
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(23);
  });

  it("streams at once with 0", async () => {
    const at = await arrivals(0);
    expect(at.length).toBeGreaterThan(10);
    // well under what even a 10 ms pause per word would take
    expect(at.at(-1)!).toBeLessThan(at.length * 10);
  });

  it("stops promptly when its signal aborts during a pause", async () => {
    const controller = new AbortController();
    const start = performance.now();
    const call = arrivals(10_000, controller.signal);
    setTimeout(() => controller.abort(new Error("cancelled")), 50);
    await expect(call).rejects.toThrow();
    expect(performance.now() - start).toBeLessThan(2_000);
  });
});
