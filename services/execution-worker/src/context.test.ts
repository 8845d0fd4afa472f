import {
  AIMessage,
  type BaseMessage,
  HumanMessage,
  SystemMessage,
  ToolMessage,
} from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { buildHistory, type ContextRow, isOwnMessage, safeName } from "./context.ts";

let seq = 0;
function row(m: Partial<ContextRow> & Pick<ContextRow, "sender_type" | "sender_alias">): ContextRow {
  seq++;
  return { id: `m${seq}`, seq, content: "", tool_calls: null, tool_call_id: null, meta: null, ...m };
}
const user = (content: string) => row({ sender_type: "user", sender_alias: "alice@x.com", content });
const agent = (alias: string, content: string, calls: { id: string; name: string }[] = []) =>
  row({
    sender_type: "agent",
    sender_alias: alias,
    content,
    tool_calls: calls.length ? calls.map((c) => ({ ...c, args: { expression: "1+1" } })) : null,
  });
const tool = (id: string, content: string, name = "calculator") =>
  row({ sender_type: "tool", sender_alias: name, content, tool_call_id: id });
const system = (content: string) => row({ sender_type: "system", sender_alias: "system", content });

/** A compact view: type, and content or tool linkage. */
function shape(msgs: BaseMessage[]): string[] {
  return msgs.map((m) => {
    if (m instanceof ToolMessage) return `tool(${m.tool_call_id}): ${m.text}`;
    if (m instanceof AIMessage)
      return `ai: ${m.text}${m.tool_calls?.length ? ` [${m.tool_calls.map((c) => c.id).join(",")}]` : ""}`;
    if (m instanceof SystemMessage) return `SYSTEM: ${m.text}`;
    return `human${m.name ? `<${m.name}>` : ""}: ${m.text}`;
  });
}

describe("buildHistory", () => {
  it("follows an agent's own messages by id across a rename; matches by alias only without one", () => {
    const rows = [
      user("hi"),
      row({ sender_type: "agent", sender_alias: "Writer", content: "old name", meta: { agent_id: "a1" } }),
      row({
        sender_type: "agent",
        sender_alias: "Scribe",
        content: "someone else",
        meta: { agent_id: "a2" },
      }),
      agent("Scribe", "legacy row without an id"),
      user("go on"),
    ];
    expect(shape(buildHistory(rows, { self: "Scribe", selfId: "a1" }))).toEqual([
      "human<alice_x_com>: [alice@x.com]: hi",
      "ai: old name",
      "human<Scribe>: [Scribe]: someone else",
      "ai: legacy row without an id",
      "human<alice_x_com>: [alice@x.com]: go on",
    ]);
  });

  it("shows own messages as assistant, everyone else as named humans, notices as human text", () => {
    const rows = [
      user("hi team"),
      agent("Orchestrator", "@[Writer] draft it"),
      agent("Writer", "Here is a draft."),
      agent("Critic", "Looks fine."),
      system("Critic failed: provider claude is not configured"),
      user("thanks"),
    ];
    const out = buildHistory(rows, { self: "writer" });
    expect(shape(out)).toEqual([
      "human<alice_x_com>: [alice@x.com]: hi team",
      "human<Orchestrator>: [Orchestrator]: @[Writer] draft it",
      "ai: Here is a draft.",
      "human<Critic>: [Critic]: Looks fine.",
      "human<system>: [system notice] Critic failed: provider claude is not configured",
      "human<alice_x_com>: [alice@x.com]: thanks",
    ]);
    expect(out.some((m) => m instanceof SystemMessage)).toBe(false);
  });

  it("puts its own tool results right after its call and leaves others' out", () => {
    const rows = [
      user("compute things"),
      agent("Calc", "", [
        { id: "c1", name: "calculator" },
        { id: "c2", name: "calculator" },
      ]),
      agent("Other", "", [{ id: "c3", name: "calculator" }]),
      tool("c3", "99"),
      tool("c2", "2"),
      tool("c1", "1"),
    ];
    expect(shape(buildHistory(rows, { self: "Calc" }))).toEqual([
      "human<alice_x_com>: [alice@x.com]: compute things",
      "ai:  [c1,c2]",
      "tool(c1): 1",
      "tool(c2): 2",
      "human<Other>: [Other]:  (called calculator)",
    ]);
    expect(shape(buildHistory(rows, { self: "Other" }))).toEqual([
      "human<alice_x_com>: [alice@x.com]: compute things",
      "human<Calc>: [Calc]:  (called calculator, calculator)",
      "ai:  [c3]",
      "tool(c3): 99",
    ]);
  });

  it("keeps the protocol valid after the window cut", () => {
    // the window starts with a result whose call was cut off, then an own call answered only partly
    const rows = [
      tool("old", "stale result"),
      agent("Calc", "Let me check.", [
        { id: "a", name: "calculator" },
        { id: "b", name: "calculator" },
      ]),
      tool("a", "2"),
      agent("Calc", "", [{ id: "pending", name: "calculator" }]),
    ];
    const out = buildHistory(rows, { self: "Calc" });
    expect(shape(out)).toEqual([
      "human<system>: [system notice] Earlier messages are not shown.",
      "ai: Let me check. [a]",
      "tool(a): 2",
    ]);
    // every ToolMessage answers a call of the AIMessage just before it
    out.forEach((m, i) => {
      if (m instanceof ToolMessage) {
        const prev = out
          .slice(0, i)
          .reverse()
          .find((x) => !(x instanceof ToolMessage));
        expect(prev instanceof AIMessage && prev.tool_calls?.some((c) => c.id === m.tool_call_id)).toBe(true);
      }
    });
  });

  it("ends on a user-side message when its own reply is last", () => {
    const out = buildHistory([user("q"), agent("A", "answer")], { self: "A" });
    expect(out.at(-1)).toBeInstanceOf(HumanMessage);
    expect(out.at(-1)!.text).toContain("[system notice]");
  });

  it("gives a non-empty chat for an empty window", () => {
    expect(shape(buildHistory([], { self: "A" }))).toEqual([
      "human<system>: [system notice] The conversation is empty.",
    ]);
  });

  it("alternates turns for Anthropic and Gemini", () => {
    const rows = [
      user("one"),
      agent("B", "two"),
      system("three"),
      agent("A", "mine"),
      agent("A", "mine again"),
    ];
    expect(shape(buildHistory(rows, { self: "A", alternate: true }))).toEqual([
      "human: [alice@x.com]: one\n\n[B]: two\n\n[system notice] three",
      "ai: mine",
      "human<system>: [system notice] (no messages in between)",
      "ai: mine again",
      "human<system>: [system notice] No new messages since your last reply. Continue.",
    ]);
  });

  it("marks failed tool results", () => {
    const rows = [
      user("x"),
      agent("A", "", [{ id: "t", name: "web_search" }]),
      { ...tool("t", "web_search is disabled", "web_search"), meta: { is_error: true } },
    ];
    const out = buildHistory(rows, { self: "A" });
    expect((out[2] as ToolMessage).status).toBe("error");
    expect((out[2] as ToolMessage).name).toBe("web_search");
  });
});

describe("isOwnMessage (buildHistory and the demo provider)", () => {
  const me = { id: "a1", alias: "Alice" };
  it("matches by the stored agent id across a rename, and by alias (any case) without one", () => {
    expect(
      isOwnMessage(row({ sender_type: "agent", sender_alias: "Ally", meta: { agent_id: "a1" } }), me),
    ).toBe(true);
    expect(
      isOwnMessage(row({ sender_type: "agent", sender_alias: "Alice", meta: { agent_id: "b2" } }), me),
    ).toBe(false);
    expect(isOwnMessage(row({ sender_type: "agent", sender_alias: "alice" }), me)).toBe(true);
    expect(isOwnMessage(row({ sender_type: "user", sender_alias: "Alice" }), me)).toBe(false);
  });
});

describe("safeName", () => {
  it("keeps OpenAI's name charset", () => {
    expect(safeName("alice@x.com")).toBe("alice_x_com");
    expect(safeName("Data Analyst")).toBe("Data_Analyst");
    expect(safeName("x".repeat(80))).toHaveLength(64);
  });
});
