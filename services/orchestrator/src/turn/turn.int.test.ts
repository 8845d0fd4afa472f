import type { LlmJob, ToolJob } from "@synapse/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, waitFor } from "../../test/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { MAX_STEPS_PER_TURN: "6" } });
});
afterAll(async () => {
  await h?.close();
});

const frameTypes = (groupId: string, turnId: string) =>
  h
    .frames(groupId)
    .filter((f) => (f.type === "message" ? f.message.turn_id : "turn_id" in f ? f.turn_id : null) === turnId)
    .map((f) =>
      f.type === "agent.started" || f.type === "agent.finished" ? `${f.type}:${f.alias}` : f.type,
    );

async function checkpointRows(turnId: string): Promise<number> {
  const { rows } = await h.pool.query<{ n: number }>(
    "select count(*)::int as n from graph_checkpoints where thread_id = $1",
    [turnId],
  );
  return rows[0]!.n;
}

describe("a turn", () => {
  it("runs the Orchestrator for a message without mentions and completes; stores and publishes each message once", async () => {
    const g = await h.createGroup(["Alice"]);
    h.scripts.set(g.groupId, () => ({ content: "Hello! TASK_COMPLETE [MESSAGE_END]" }));
    const { turnId, messageId } = await h.post(g, "hi there, Alice is not mentioned");
    const turn = await h.waitTurn(turnId);
    expect(turn).toMatchObject({ status: "ended", reason: "completed", steps: 1 });
    expect(turn.usage).toEqual({
      input_tokens: 3,
      output_tokens: 2,
      by_agent: { Orchestrator: { input_tokens: 3, output_tokens: 2, calls: 1 } },
    });
    const msgs = await h.messages(g.groupId);
    expect(msgs.map((m) => [m.sender_type, m.sender_alias, m.content])).toEqual([
      ["user", "user", "hi there, Alice is not mentioned"],
      ["agent", "Orchestrator", "Hello!"],
    ]);
    expect(msgs[1]!.turn_id).toBe(turnId);
    await waitFor(() => frameTypes(g.groupId, turnId).includes("turn.ended"));
    expect(frameTypes(g.groupId, turnId)).toEqual([
      "message",
      "turn.started",
      "agent.started:Orchestrator",
      "message",
      "agent.finished:Orchestrator",
      "turn.ended",
    ]);
    const started = h.frames(g.groupId).find((f) => f.type === "turn.started");
    expect(started).toMatchObject({ turn_id: turnId, message_id: messageId });
    // the llm job carried the context bound: the user's message
    const job = h.jobs.find((j) => j.data.turn_id === turnId)!.data as LlmJob;
    expect(job.until_seq).toBe(msgs[0]!.seq);
    expect(job.message_id).toBe(msgs[1]!.id);
    // the turn's graph state goes with it (deleted right after the step that ended it)
    await waitFor(async () => (await checkpointRows(turnId)) === 0);
  });

  it("runs mentioned agents in parallel, then the Orchestrator once, seeing all their answers", async () => {
    const g = await h.createGroup(["Alice", "Data Bot", "Carol"]);
    h.scripts.set(g.groupId, (job) => {
      if (job.alias === "Orchestrator") return { content: "Thanks both. TASK_COMPLETE" };
      return { content: `${job.alias} here; ask @Carol` };
    });
    const { turnId } = await h.post(g, "@alice and @[data bot], go");
    const turn = await h.waitTurn(turnId);
    expect(turn).toMatchObject({ reason: "completed", steps: 3 });
    const jobs = h.jobs.filter((j) => j.data.turn_id === turnId).map((j) => j.data as LlmJob);
    expect(jobs.map((j) => j.alias).sort()).toEqual(["Alice", "Data Bot", "Orchestrator"]);
    const [a, b] = jobs.filter((j) => j.alias !== "Orchestrator");
    // dispatched together: neither sees the other's answer
    expect(a!.until_seq).toBe(b!.until_seq);
    const msgs = await h.messages(g.groupId);
    const orch = jobs.find((j) => j.alias === "Orchestrator")!;
    expect(orch.until_seq).toBe(msgs.at(-2)!.seq);
    expect(
      msgs
        .map((m) => m.sender_alias)
        .slice(1, 3)
        .sort(),
    ).toEqual(["Alice", "Data Bot"]);
    // Carol was mentioned by agents only: never dispatched
    expect(jobs.some((j) => j.alias === "Carol")).toBe(false);
  });

  it("answers every tool call to the agent that made it, for as many rounds as it needs", async () => {
    const g = await h.createGroup(["Alice", "Bob"]);
    const rounds = new Map<string, number>();
    h.scripts.set(g.groupId, (job, kind) => {
      if (kind === "tool") {
        const t = (job as ToolJob).tool_call;
        return { content: `result of ${t.id} @Bob` };
      }
      if (job.alias === "Orchestrator") return { content: "TASK_COMPLETE" };
      const n = (rounds.get(job.alias) ?? 0) + 1;
      rounds.set(job.alias, n);
      if (job.alias === "Alice" && n === 1)
        return {
          tool_calls: [
            { id: "a1", name: "calculator", args: { expression: "1+1" } },
            { id: "a2", name: "current_time" },
          ],
        };
      if (job.alias === "Bob" && n <= 2)
        return { content: `round ${n}`, tool_calls: [{ id: `b${n}`, name: "calculator" }] };
      return { content: `${job.alias} final` };
    });
    const { turnId } = await h.post(g, "@Alice @Bob compute");
    const turn = await h.waitTurn(turnId);
    // Alice: llm, 2 tools, llm; Bob: llm, tool, llm, tool, llm; Orchestrator: 1 → 11 > 6: cut at the limit
    expect(turn.reason).toBe("max_steps");
    const msgs = await h.messages(g.groupId);
    const tools = msgs.filter((m) => m.sender_type === "tool");
    for (const t of tools) {
      const caller = msgs.find((m) => m.tool_calls?.some((c) => c.id === t.tool_call_id));
      expect(caller).toBeDefined();
      expect(t.content).toBe(`result of ${t.tool_call_id} @Bob`);
      expect(t.meta).toMatchObject({ agent: caller!.sender_alias });
    }
    const notice = msgs.at(-1)!;
    expect(notice).toMatchObject({ sender_type: "system", sender_alias: "system", turn_id: turnId });
    expect(turn.steps).toBeLessThanOrEqual(6);
  });

  it("runs tool rounds until the agent is done when the limit allows", async () => {
    const g = await h.createGroup(["Alice"]);
    let round = 0;
    h.scripts.set(g.groupId, (job, kind) => {
      if (kind === "tool") return { content: `r:${(job as ToolJob).tool_call.id}` };
      if (job.alias === "Orchestrator") return { content: "ok TASK_COMPLETE" };
      round += 1;
      if (round === 1)
        return {
          tool_calls: [
            { id: "x1", name: "calculator" },
            { id: "x2", name: "calculator" },
          ],
        };
      return { content: "Alice final" };
    });
    const { turnId } = await h.post(g, "@Alice");
    const turn = await h.waitTurn(turnId);
    expect(turn).toMatchObject({ reason: "completed", steps: 5 });
    const msgs = await h.messages(g.groupId);
    expect(msgs.map((m) => `${m.sender_type}:${m.sender_alias}:${m.tool_call_id ?? ""}`)).toEqual([
      "user:user:",
      "agent:Alice:",
      expect.stringMatching(/^tool:calculator:x[12]$/),
      expect.stringMatching(/^tool:calculator:x[12]$/),
      "agent:Alice:",
      "agent:Orchestrator:",
    ]);
    // Alice's second call sees both tool results
    const second = h.jobs.filter(
      (j) => j.data.turn_id === turnId && j.data.alias === "Alice" && j.kind === "llm",
    )[1]!.data as LlmJob;
    expect(second.until_seq).toBe(msgs[3]!.seq);
  });

  it("Orchestrator mentions start a wave; its plain answer awaits the user", async () => {
    const g = await h.createGroup(["Alice"]);
    let orch = 0;
    h.scripts.set(g.groupId, (job) => {
      if (job.alias !== "Orchestrator") return { content: "Alice done" };
      orch += 1;
      return { content: orch === 1 ? "@Alice please" : "Anything else?" };
    });
    const { turnId } = await h.post(g, "help");
    expect(await h.waitTurn(turnId)).toMatchObject({ reason: "awaiting_user", steps: 3 });
  });

  it("turns an agent's final LLM failure into a notice the Orchestrator is told about", async () => {
    const g = await h.createGroup(["Alice"]);
    h.scripts.set(g.groupId, (job) =>
      job.alias === "Alice" ? { error: "the provider refused the key" } : { content: "TASK_COMPLETE" },
    );
    const { turnId } = await h.post(g, "@Alice");
    expect(await h.waitTurn(turnId)).toMatchObject({ reason: "completed", steps: 2 });
    const msgs = await h.messages(g.groupId);
    expect(msgs[1]).toMatchObject({
      sender_type: "system",
      sender_alias: "system",
      turn_id: turnId,
      content: "Alice could not answer: the provider refused the key",
    });
    const orch = h.jobs.find((j) => j.data.turn_id === turnId && j.data.alias === "Orchestrator")!
      .data as LlmJob;
    expect(orch.until_seq).toBe(msgs[1]!.seq);
  });

  it("ends the turn with error when the Orchestrator fails", async () => {
    const g = await h.createGroup([]);
    h.scripts.set(g.groupId, () => ({ error: "boom" }));
    const { turnId } = await h.post(g, "hi");
    expect(await h.waitTurn(turnId)).toMatchObject({ reason: "error" });
    const msgs = await h.messages(g.groupId);
    expect(msgs.at(-1)).toMatchObject({
      sender_type: "system",
      content: "Orchestrator could not answer: boom",
    });
  });

  it("ends with max_steps and a visible notice when the router would go beyond the limit", async () => {
    const g = await h.createGroup(["Alice"]);
    h.scripts.set(g.groupId, (job) => ({ content: job.alias === "Orchestrator" ? "@Alice again" : "done" }));
    const { turnId } = await h.post(g, "loop");
    const turn = await h.waitTurn(turnId);
    expect(turn).toMatchObject({ reason: "max_steps", steps: 6 });
    const msgs = await h.messages(g.groupId);
    expect(msgs.at(-1)).toMatchObject({ sender_type: "system", turn_id: turnId });
    expect(msgs.at(-1)!.content).toContain("6 steps");
    await waitFor(() => frameTypes(g.groupId, turnId).at(-1) === "turn.ended");
    expect(frameTypes(g.groupId, turnId).slice(-3)).toEqual([
      "agent.finished:Alice",
      "message",
      "turn.ended",
    ]);
  });
});
