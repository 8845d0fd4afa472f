import type { ExecutionResult } from "@synapse/shared";
import { describe, expect, it } from "vitest";
import { type RouteOutput, route } from "./router.ts";
import type { AgentRef, Dispatch, Effect, TurnState } from "./state.ts";

const TURN = "0b6c3c1e-7c1a-4f3e-9a43-3f3f1f7d9a10";
const GROUP = "7e1d5a4c-2b1f-4c8e-8d3a-1a2b3c4d5e6f";
const orch: AgentRef = {
  id: "00000000-0000-4000-8000-000000000001",
  alias: "Orchestrator",
  is_orchestrator: true,
};
const alice: AgentRef = {
  id: "00000000-0000-4000-8000-000000000002",
  alias: "Alice",
  is_orchestrator: false,
};
const bob: AgentRef = { id: "00000000-0000-4000-8000-000000000003", alias: "Bob", is_orchestrator: false };
const agents = [orch, alice, bob];

function start(content: string, maxSteps = 20): TurnState {
  const out = route(null, {
    type: "start",
    turn_id: TURN,
    group_id: GROUP,
    message: { id: "00000000-0000-4000-8000-00000000000a", content },
    agents,
    max_steps: maxSteps,
  });
  expect(out.outcome).toBe("started");
  return out.turn!;
}

/** The outbox of a routed state, and the state as `apply` leaves it (outbox cleared). */
function take(turn: TurnState): { effects: Effect[]; turn: TurnState } {
  return { effects: turn.outbox, turn: { ...turn, outbox: [] } };
}

function dispatched(effects: Effect[]): Dispatch[] {
  return effects.flatMap((e) => (e.type === "dispatch" ? e.calls : []));
}

function stored(effects: Effect[]) {
  return effects.flatMap((e) =>
    e.type === "store" ? [e.message] : e.type === "end" && e.notice ? [e.notice] : [],
  );
}

function ended(effects: Effect[]) {
  return effects.find((e) => e.type === "end");
}

function answer(a: AgentRef, content: string, toolCalls: { id: string; name: string; args?: object }[] = []) {
  return (d: Dispatch): ExecutionResult => ({
    kind: "llm",
    ok: true,
    alias: a.alias,
    agent_id: a.id,
    message_id: d.dispatch_id,
    content,
    tool_calls: toolCalls.map((t) => ({ id: t.id, name: t.name, args: { ...t.args } })),
    usage: { input_tokens: 10, output_tokens: 5 },
  });
}

function feed(turn: TurnState, d: Dispatch, result: ExecutionResult): RouteOutput {
  return route(turn, { type: "result", dispatch_id: d.dispatch_id, result });
}

function step(turn: TurnState, d: Dispatch, make: (d: Dispatch) => ExecutionResult) {
  const out = feed(turn, d, make(d));
  expect(out.outcome).toBe("handled");
  return take(out.turn!);
}

describe("router: a person's message", () => {
  it("without mentions runs the Orchestrator", () => {
    const { effects, turn } = take(start("hello @nobody"));
    expect(dispatched(effects)).toMatchObject([{ kind: "llm", alias: "Orchestrator" }]);
    expect(turn.steps).toBe(1);
    expect(effects.at(-1)).toMatchObject({ type: "progress", steps: 1 });
  });

  it("with mentions runs those agents in parallel, not the Orchestrator", () => {
    const { effects } = take(start("@bob and @[alice], @Orchestrator too"));
    expect(dispatched(effects).map((d) => d.alias)).toEqual(["Bob", "Alice"]);
  });
});

describe("router: gathering", () => {
  it("runs the Orchestrator once, after every agent of the wave answered", () => {
    let s = take(start("@Alice @Bob"));
    const [da, db] = dispatched(s.effects);
    s = step(s.turn, da!, answer(alice, "A says hi to @Bob"));
    // Alice's mention of Bob dispatches nothing; Bob has not answered yet
    expect(dispatched(s.effects)).toEqual([]);
    expect(stored(s.effects)).toMatchObject([
      { sender_type: "agent", sender_alias: "Alice", content: "A says hi to @Bob" },
    ]);
    expect(s.effects).toContainEqual({ type: "agent.finished", alias: "Alice" });
    s = step(s.turn, db!, answer(bob, "B"));
    expect(dispatched(s.effects)).toMatchObject([{ kind: "llm", alias: "Orchestrator" }]);
    expect(s.turn.steps).toBe(3);
    expect(s.turn.usage).toEqual({
      input_tokens: 20,
      output_tokens: 10,
      by_agent: {
        Alice: { input_tokens: 10, output_tokens: 5, calls: 1 },
        Bob: { input_tokens: 10, output_tokens: 5, calls: 1 },
      },
    });
  });

  it("ignores a duplicate result and a result of the wrong kind", () => {
    const s = take(start("@Alice @Bob"));
    const [da] = dispatched(s.effects);
    const first = feed(s.turn, da!, answer(alice, "A")(da!));
    const again = feed(take(first.turn!).turn, da!, answer(alice, "A")(da!));
    expect(again.outcome).toBe("ignored");
    expect(again.turn!.outbox).toEqual([]);
    const wrong = feed(s.turn, da!, {
      kind: "tool",
      ok: true,
      alias: "Alice",
      agent_id: alice.id,
      message_id: da!.dispatch_id,
      tool_name: "calculator",
      tool_call_id: "x",
      content: "1",
      is_error: false,
    });
    expect(wrong.outcome).toBe("ignored");
    // a result of a call this state never dispatched must wait (its step is being retried)
    const early = { ...da!, dispatch_id: "00000000-0000-4000-8000-0000000000ff" };
    expect(feed(s.turn, early, answer(alice, "A")(early)).outcome).toBe("early");
    expect(
      route(null, { type: "result", dispatch_id: da!.dispatch_id, result: answer(alice, "A")(da!) }).outcome,
    ).toBe("not_started");
  });

  it("is deterministic: the same event on the same state gives the same ids and effects", () => {
    const s = take(start("@Alice @Bob"));
    const [da, db] = dispatched(s.effects);
    const t1 = take(feed(s.turn, da!, answer(alice, "A")(da!)).turn!).turn;
    const x = feed(t1, db!, answer(bob, "B")(db!));
    const y = feed(structuredClone(t1), db!, answer(bob, "B")(db!));
    expect(x).toEqual(y);
    // and order-independent in outcome: Bob first, then Alice, also runs the Orchestrator once
    const t2 = take(feed(s.turn, db!, answer(bob, "B")(db!)).turn!).turn;
    const z = feed(t2, da!, answer(alice, "A")(da!));
    expect(dispatched(z.turn!.outbox)).toMatchObject([{ alias: "Orchestrator" }]);
  });
});

describe("router: tools", () => {
  it("runs every tool call, then the same agent again, answering each call to it", () => {
    let s = take(start("@Alice @Bob"));
    const [da, db] = dispatched(s.effects);
    s = step(
      s.turn,
      da!,
      answer(alice, "", [
        { id: "c1", name: "calculator" },
        { id: "c2", name: "current_time" },
      ]),
    );
    const tools = dispatched(s.effects);
    expect(tools).toMatchObject([
      { kind: "tool", alias: "Alice", tool_call: { id: "c1", name: "calculator" } },
      { kind: "tool", alias: "Alice", tool_call: { id: "c2", name: "current_time" } },
    ]);
    expect(stored(s.effects)[0]?.tool_calls).toHaveLength(2);
    s = step(s.turn, db!, answer(bob, "B"));
    expect(dispatched(s.effects)).toEqual([]); // Alice is still in her tool round
    const tool = (t: Dispatch, content: string) => (): ExecutionResult => ({
      kind: "tool",
      ok: true,
      alias: "Alice",
      agent_id: alice.id,
      message_id: t.dispatch_id,
      tool_name: t.kind === "tool" ? t.tool_call.name : "",
      tool_call_id: t.kind === "tool" ? t.tool_call.id : "",
      content,
      is_error: false,
    });
    s = step(s.turn, tools[1]!, tool(tools[1]!, "12:00 @Bob"));
    expect(stored(s.effects)).toMatchObject([
      { sender_type: "tool", sender_alias: "current_time", tool_call_id: "c2" },
    ]);
    expect(dispatched(s.effects)).toEqual([]);
    s = step(s.turn, tools[0]!, tool(tools[0]!, "42"));
    // all answered: Alice again (the mention inside tool output dispatches nobody)
    expect(dispatched(s.effects)).toMatchObject([{ kind: "llm", alias: "Alice" }]);
    const [again] = dispatched(s.effects);
    s = step(s.turn, again!, answer(alice, "It is 42"));
    expect(dispatched(s.effects)).toMatchObject([{ kind: "llm", alias: "Orchestrator" }]);
    expect(s.turn.steps).toBe(6);
    expect(s.turn.usage.by_agent.Alice?.calls).toBe(2);
  });

  it("lets the Orchestrator call tools and runs it again with the results", () => {
    let s = take(start("hi"));
    const [d0] = dispatched(s.effects);
    s = step(s.turn, d0!, answer(orch, "TASK_COMPLETE", [{ id: "t", name: "calculator" }]));
    expect(ended(s.effects)).toBeUndefined();
    const [t] = dispatched(s.effects);
    s = step(s.turn, t!, () => ({
      kind: "tool",
      ok: true,
      alias: "Orchestrator",
      agent_id: orch.id,
      message_id: t!.dispatch_id,
      tool_name: "calculator",
      tool_call_id: "t",
      content: "2",
      is_error: true,
    }));
    expect(dispatched(s.effects)).toMatchObject([{ kind: "llm", alias: "Orchestrator" }]);
  });
});

describe("router: the Orchestrator's answer", () => {
  it("TASK_COMPLETE ends the turn completed, stored without the markers", () => {
    let s = take(start("hi"));
    s = step(s.turn, dispatched(s.effects)[0]!, answer(orch, "All done. @Alice TASK_COMPLETE [MESSAGE_END]"));
    expect(stored(s.effects)).toMatchObject([{ content: "All done. @Alice" }]);
    expect(ended(s.effects)).toEqual({ type: "end", reason: "completed" });
    expect(dispatched(s.effects)).toEqual([]);
    expect(s.turn.ended).toBe("completed");
    expect(s.effects.map((e) => e.type)).toEqual(["store", "agent.finished", "progress", "end"]);
  });

  it("mentions start a new wave; neither mentions nor marker awaits the user", () => {
    let s = take(start("hi"));
    s = step(s.turn, dispatched(s.effects)[0]!, answer(orch, "@Bob please, and @Orchestrator"));
    expect(dispatched(s.effects)).toMatchObject([{ alias: "Bob" }]);
    s = step(s.turn, dispatched(s.effects)[0]!, answer(bob, "done"));
    s = step(s.turn, dispatched(s.effects)[0]!, answer(orch, "What next?"));
    expect(ended(s.effects)).toEqual({ type: "end", reason: "awaiting_user" });
  });

  it("an answer that is only a marker is stored empty", () => {
    let s = take(start("hi"));
    s = step(s.turn, dispatched(s.effects)[0]!, answer(orch, "TASK_COMPLETE"));
    expect(stored(s.effects)).toMatchObject([{ content: "" }]);
  });
});

describe("router: failures", () => {
  const fail =
    (a: AgentRef) =>
    (d: Dispatch): ExecutionResult => ({
      kind: "llm_error",
      ok: false,
      alias: a.alias,
      agent_id: a.id,
      message_id: d.dispatch_id,
      error: { code: "provider_rejected", detail: "401 from provider" },
    });

  it("an agent's final failure is a system notice and the Orchestrator still runs", () => {
    let s = take(start("@Alice"));
    const [d] = dispatched(s.effects);
    s = step(s.turn, d!, fail(alice));
    expect(stored(s.effects)).toMatchObject([
      {
        id: d!.dispatch_id,
        sender_type: "system",
        sender_alias: "system",
        content: expect.stringContaining("Alice"),
      },
    ]);
    expect(dispatched(s.effects)).toMatchObject([{ alias: "Orchestrator" }]);
  });

  it("the Orchestrator's failure ends the turn with error", () => {
    let s = take(start("hi"));
    s = step(s.turn, dispatched(s.effects)[0]!, fail(orch));
    expect(ended(s.effects)).toEqual({ type: "end", reason: "error" });
  });
});

describe("router: step limit", () => {
  it("ends with max_steps and a notice when the next dispatch would go beyond the limit", () => {
    let s = take(start("@Alice @Bob", 2));
    const [da, db] = dispatched(s.effects);
    s = step(s.turn, da!, answer(alice, "A"));
    s = step(s.turn, db!, answer(bob, "B"));
    expect(dispatched(s.effects)).toEqual([]);
    const end = ended(s.effects);
    expect(end).toMatchObject({ type: "end", reason: "max_steps", notice: { sender_type: "system" } });
    expect(s.turn.steps).toBe(2);
  });

  it("a turn whose last allowed step completes it ends completed", () => {
    let s = take(start("hi", 1));
    s = step(s.turn, dispatched(s.effects)[0]!, answer(orch, "ok TASK_COMPLETE"));
    expect(ended(s.effects)).toEqual({ type: "end", reason: "completed" });
  });

  it("waits for calls in flight before ending with max_steps", () => {
    let s = take(start("@Alice @Bob", 3));
    const [da, db] = dispatched(s.effects);
    s = step(
      s.turn,
      da!,
      answer(alice, "", [
        { id: "1", name: "calculator" },
        { id: "2", name: "calculator" },
      ]),
    );
    expect(dispatched(s.effects)).toEqual([]);
    expect(ended(s.effects)).toBeUndefined();
    s = step(s.turn, db!, answer(bob, "B"));
    expect(stored(s.effects).map((m) => m.sender_alias)).toEqual(["Bob", "system"]);
    expect(ended(s.effects)).toMatchObject({ reason: "max_steps" });
  });

  it("a start beyond the limit of a group without Orchestrator ends with error", () => {
    const out = route(null, {
      type: "start",
      turn_id: TURN,
      group_id: GROUP,
      message: { id: "00000000-0000-4000-8000-00000000000a", content: "hi" },
      agents: [alice],
      max_steps: 5,
    });
    expect(ended(out.turn!.outbox)).toMatchObject({ reason: "error" });
  });
});
