import { randomUUID } from "node:crypto";
import type { AgentRow } from "@synapse/shared";
import { describe, expect, it } from "vitest";
import type { ContextRow } from "../context.ts";
import { DemoChatModel, demoReply, findExpression } from "./demo.ts";
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

const agentRow = (alias: string, is_orchestrator = false): AgentRow => ({
  id: randomUUID(),
  group_id: randomUUID(),
  alias,
  role_prompt: "",
  provider: "demo",
  model: "demo",
  temperature: 0,
  tools: [],
  is_orchestrator,
});

describe("demoReply quoting", () => {
  it("cuts a long request between characters, never inside one", () => {
    const orchestrator = agentRow("Orchestrator", true);
    const team = [orchestrator, agentRow("Helper")];
    // "a" then astral letters (two UTF-16 units each): cutting at 300 units splits one in two
    for (const content of [`a${"𝕏".repeat(200)}`, `${"👩‍👩‍👧".repeat(40)}`, `${"e\u0301".repeat(200)}`]) {
      const history = [
        {
          id: "m1",
          seq: 1,
          sender_type: "user" as const,
          sender_alias: "p@example.com",
          content,
          tool_calls: null,
          tool_call_id: null,
          meta: null,
        },
      ];
      const { text } = demoReply({ agent: orchestrator, team, history }, []);
      const quoted = /request: "(.*)…"$/su.exec(text)?.[1];
      expect(quoted, text).toBeDefined();
      expect(quoted!.isWellFormed()).toBe(true);
      expect(quoted!.length).toBeLessThanOrEqual(300);
      expect(content.startsWith(quoted!)).toBe(true);
      // whole graphemes: what is quoted ends where one of the content's graphemes ends
      const ends = [...new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(content)].map(
        (g) => g.index + g.segment.length,
      );
      expect(ends).toContain(quoted!.length);
    }
  });
});

describe("demoReply in a turn that waited in the queue", () => {
  const orchestrator = agentRow("Orchestrator", true);
  const team = [orchestrator, agentRow("Calc"), agentRow("Clock")];
  let seq = 0;
  const row = (
    sender_type: ContextRow["sender_type"],
    sender_alias: string,
    content: string,
  ): ContextRow => ({
    id: randomUUID(),
    seq: ++seq,
    sender_type,
    sender_alias,
    content,
    tool_calls: null,
    tool_call_id: null,
    meta: null,
  });
  // the window as the call sees it: the previous turn whole, then the request that waited for it
  const previous = [
    row("user", "a@example.com", "what is 6*7?"),
    row("agent", "Orchestrator", "@[Calc] please handle this request"),
    row("agent", "Calc", "42"),
    row("agent", "Orchestrator", "The team has answered. TASK_COMPLETE"),
  ];
  const request = row("user", "a@example.com", "what time is it?");

  it("delegates the request that comes last, though the previous turn ended after its seq", () => {
    const reply = demoReply({ agent: orchestrator, team, history: [...previous, request] }, []);
    expect(reply.text).toContain('@[Calc] please handle this request: "what time is it?"');
  });

  it("sums up only the answers after the request in the turn's later calls", () => {
    const own = [row("agent", "Orchestrator", "@[Clock] please"), row("agent", "Clock", "it is noon")];
    const reply = demoReply({ agent: orchestrator, team, history: [...previous, request, ...own] }, []);
    expect(reply.text).toContain('Clock said: "it is noon"');
    expect(reply.text).not.toContain("Calc said");
  });
});

const agent = agentRow("helper");
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
