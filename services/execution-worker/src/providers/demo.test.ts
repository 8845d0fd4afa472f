import { randomUUID } from "node:crypto";
import type { AgentRow } from "@synapse/shared";
import { describe, expect, it } from "vitest";
import type { ContextRow } from "../context.ts";
import { demoReply, findExpression } from "./demo.ts";

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

describe("demoReply in a turn that waited in the queue", () => {
  const agent = (alias: string, is_orchestrator = false): AgentRow => ({
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
  const orchestrator = agent("Orchestrator", true);
  const team = [orchestrator, agent("Calc"), agent("Clock")];
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
