import type { Message } from "@synapse/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeRequest } from "../fakes/llm-server.ts";
import {
  agentOf,
  type GroupBody,
  isFrame,
  openSocket,
  type Stack,
  startStack,
  type TurnBody,
} from "./stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

/** Orchestrator delegates to Researcher, who searches the web once, answers; the Orchestrator completes. */
function delegationScript(req: FakeRequest) {
  const who = agentOf(req.system);
  const last = req.messages.at(-1);
  if (who === "Orchestrator") {
    const answered = req.messages.some((m) => m.content.includes("Paris has"));
    return answered
      ? { text: "Paris has about 2.1 million people. TASK_COMPLETE" }
      : { text: "@[Researcher] please find the population of Paris." };
  }
  if (who === "Researcher") {
    if (last?.role === "tool")
      return { text: `Paris has 2.1 million inhabitants (source: ${last.content.slice(0, 20)}).` };
    return { toolCalls: [{ name: "web_search", args: { query: "population of Paris" } }] };
  }
  return { text: `unexpected agent ${who}` };
}

describe.each(["openai", "claude", "gemini"] as const)("a delegation + tool-call turn on %s", (provider) => {
  it("stores, streams and publishes each message once, in order, and completes", {
    timeout: 40_000,
  }, async () => {
    stack.fake.reset();
    stack.fake.respond(delegationScript);
    const owner = await stack.user();
    const created = await stack.api<GroupBody>("POST", "/groups", {
      token: owner.token,
      body: {
        name: `e2e ${provider}`,
        members: [
          {
            alias: "Researcher",
            role_prompt: "You research facts.",
            provider,
            model: "m-1",
            tools: ["web_search"],
          },
        ],
      },
    });
    expect(created.status).toBe(201);
    const group = created.body;
    const orchestrator = group.members.find((m) => m.is_orchestrator);
    const put = await stack.api("PUT", `/groups/${group.id}/members/${orchestrator!.id}`, {
      token: owner.token,
      body: { provider, model: "m-orch" },
    });
    expect(put.status).toBe(200);

    const live = await openSocket(stack, group.id, owner.token);
    const posted = await stack.api<Message>("POST", `/groups/${group.id}/messages`, {
      token: owner.token,
      body: { content: "How many people live in Paris?" },
    });
    expect(posted.status).toBe(202);
    const turnId = posted.body.turn_id;
    const ended = await live.waitFor(
      isFrame("turn.ended", (f) => f.turn_id === turnId),
      30_000,
    );
    expect(ended.reason).toBe("completed");

    const stored = (
      await stack.api<Message[]>("GET", `/groups/${group.id}/messages?limit=200`, { token: owner.token })
    ).body;
    expect(stored.map((m) => [m.sender_type, m.sender_alias])).toEqual([
      ["user", owner.email],
      ["agent", "Orchestrator"],
      ["agent", "Researcher"],
      ["tool", "web_search"],
      ["agent", "Researcher"],
      ["agent", "Orchestrator"],
    ]);
    expect(stored.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(stored[2]!.tool_calls).toHaveLength(1);
    expect(stored[3]!.tool_call_id).toBe(stored[2]!.tool_calls![0]!.id);
    expect(stored[5]!.content).not.toContain("TASK_COMPLETE");
    expect(stack.fake.searches).toHaveLength(1);

    // every stored message reached the live socket exactly once, in seq order
    const messageFrames = live.frames.filter((f) => f.type === "message").map((f) => f.message);
    expect(messageFrames.map((m) => m.id)).toEqual(stored.map((m) => m.id));
    const started = live.frames.find((f) => f.type === "turn.started");
    expect(started).toMatchObject({ turn_id: turnId, message_id: posted.body.id });
    // tokens were streamed under the id the final message got
    const tokenIds = new Set(live.frames.filter((f) => f.type === "token").map((f) => f.message_id));
    expect(tokenIds.has(stored[5]!.id)).toBe(true);
    expect(live.frames.filter((f) => f.type === "agent.started").map((f) => f.alias)).toEqual([
      "Orchestrator",
      "Researcher",
      "Researcher",
      "Orchestrator",
    ]);
    live.close();

    // a client reconnecting from scratch gets the same sequence
    const replay = await openSocket(stack, group.id, owner.token, 0);
    await replay.waitFor(isFrame("message", (f) => f.message.seq === 6));
    expect(replay.frames.filter((f) => f.type === "message").map((f) => f.message.id)).toEqual(
      stored.map((m) => m.id),
    );
    replay.close();

    const turn = (
      await stack.api<TurnBody>("GET", `/groups/${group.id}/turns/${turnId}`, { token: owner.token })
    ).body;
    expect(turn).toMatchObject({
      id: turnId,
      status: "ended",
      reason: "completed",
      steps: 5,
      message_id: posted.body.id,
    });
    expect(turn.usage.by_agent.Researcher!.calls).toBe(2);
    expect(turn.usage.by_agent.Orchestrator!.calls).toBe(2);
    expect(turn.usage.input_tokens).toBeGreaterThan(0);
  });
});

describe("cancel", () => {
  it("aborts the in-flight LLM call and publishes nothing of the turn after turn.ended", {
    timeout: 40_000,
  }, async () => {
    stack.fake.reset();
    stack.fake.respond((req) =>
      agentOf(req.system) === "Slow"
        ? { chunks: Array.from({ length: 100 }, (_, i) => `w${i} `), chunkDelayMs: 100 }
        : { text: "Done. TASK_COMPLETE" },
    );
    const owner = await stack.user();
    const group = await stack.group(owner.token, "cancel", ["Slow"]);
    const live = await openSocket(stack, group.id, owner.token);
    const posted = await stack.api<Message>("POST", `/groups/${group.id}/messages`, {
      token: owner.token,
      body: { content: "@Slow write a long essay" },
    });
    const turnId = posted.body.turn_id;
    await live.waitFor(isFrame("token", (f) => f.alias === "Slow"));
    const cancel = await stack.api("POST", `/groups/${group.id}/turns/${turnId}/cancel`, {
      token: owner.token,
    });
    expect(cancel.status).toBe(202);
    const ended = await live.waitFor(isFrame("turn.ended", (f) => f.turn_id === turnId));
    expect(ended.reason).toBe("cancelled");
    const endIndex = live.frames.indexOf(ended);
    await new Promise((r) => setTimeout(r, 1500));
    expect(
      live.frames
        .slice(endIndex + 1)
        .filter(
          (f) =>
            ("turn_id" in f && f.turn_id === turnId) || ("message" in f && f.message?.turn_id === turnId),
        ),
    ).toEqual([]);
    expect(stack.fake.requests.find((r) => agentOf(r.system) === "Slow")?.closedEarly).toBe(true);
    const stored = (await stack.api<Message[]>("GET", `/groups/${group.id}/messages`, { token: owner.token }))
      .body;
    expect(stored.map((m) => m.sender_alias)).toEqual([owner.email]);
    const turn = (
      await stack.api<TurnBody>("GET", `/groups/${group.id}/turns/${turnId}`, { token: owner.token })
    ).body;
    expect(turn).toMatchObject({ status: "ended", reason: "cancelled" });

    // the group is not stuck: the next message runs a turn to the end
    const next = await stack.api<Message>("POST", `/groups/${group.id}/messages`, {
      token: owner.token,
      body: { content: "thanks" },
    });
    const nextEnded = await live.waitFor(isFrame("turn.ended", (f) => f.turn_id === next.body.turn_id));
    expect(nextEnded.reason).toBe("completed");
    live.close();
  });
});
