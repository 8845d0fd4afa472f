import type { Message } from "@synapse/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeRequest } from "../fakes/llm-server.ts";
import { agentOf, isFrame, openSocket, type Stack, startStack } from "./stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

/** A: the Orchestrator delegates to Slow, then closes; B: it delegates to Helper, then closes; C: it closes at once. */
function script(req: FakeRequest) {
  const who = agentOf(req.system);
  const last = req.messages.at(-1)?.content ?? "";
  if (who === "Slow") return { chunks: Array.from({ length: 10 }, () => "slow "), chunkDelayMs: 150 };
  if (who === "Helper") return { text: "Helper says two" };
  if (last.includes("slow slow")) return { text: "A-final: answer one. TASK_COMPLETE" };
  if (last.includes("Helper says")) return { text: "B-final: answer two. TASK_COMPLETE" };
  if (last.includes("question B")) return { text: "@[Helper] help with B" };
  if (last.includes("question C")) return { text: "C-final. TASK_COMPLETE" };
  return { text: "@[Slow] handle A" };
}

/** The request's messages as text, each with the first of `markers` it contains (or "-"). */
const marked = (req: FakeRequest | undefined, markers: string[]) =>
  (req?.messages ?? []).map((m) => markers.find((k) => m.content.includes(k)) ?? "-");

describe("a turn that waited in the queue", () => {
  it("sees the end of the turn it waited for, then its own message, in every call; not a later queued one", {
    timeout: 40_000,
  }, async () => {
    stack.fake.reset();
    stack.fake.respond(script);
    const owner = await stack.user();
    const group = await stack.group(owner.token, "queued", ["Slow", "Helper"]);
    const live = await openSocket(stack, group.id, owner.token);
    const post = async (content: string) =>
      (
        await stack.api<Message>("POST", `/groups/${group.id}/messages`, {
          token: owner.token,
          body: { content },
        })
      ).body;
    const a = await post("question A");
    await live.waitFor(isFrame("token", (f) => f.alias === "Slow"));
    // posted while A's turn runs: both get seqs before A's final answer
    const b = await post("question B");
    const c = await post("question C");
    for (const t of [a, b, c]) {
      const ended = await live.waitFor(
        isFrame("turn.ended", (f) => f.turn_id === t.turn_id),
        30_000,
      );
      expect(ended.reason).toBe("completed");
    }
    live.close();

    const markers = ["question A", "question B", "question C", "A-final", "B-final", "@[Slow]", "@[Helper]"];
    const calls = (alias: string) => stack.fake.requests.filter((r) => agentOf(r.system) === alias);
    const [, , bFirst, bSecond, cFirst] = calls("Orchestrator");
    // A's turn (its request, the delegation, Slow's answer, its final answer), then B's request last
    const bAsked = ["question A", "@[Slow]", "-", "A-final", "question B"];
    expect(marked(bFirst, markers)).toEqual(bAsked);
    expect(bFirst!.messages.at(-1)).toMatchObject({ role: "user" });
    // B stays where it was placed in the later calls of its turn, C stays out until its turn
    expect(marked(calls("Helper")[0], markers)).toEqual([...bAsked, "@[Helper]"]);
    expect(marked(bSecond, markers)).toEqual([...bAsked, "@[Helper]", "-"]);
    expect(marked(cFirst, markers)).toEqual([...bAsked, "@[Helper]", "-", "B-final", "question C"]);
  });
});
