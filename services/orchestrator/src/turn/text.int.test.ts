import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../../test/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

// the first half of 𝕪: what a reply cut between the two UTF-16 units of a character ends with
const HALF = "𝕪".slice(0, 1);

describe("a turn whose results hold lone surrogates", () => {
  it("stores them as U+FFFD in every column (text and jsonb) and completes", async () => {
    const g = await h.createGroup(["Alice"]);
    let aliceCalls = 0;
    h.scripts.set(g.groupId, (job, kind) => {
      if (kind === "tool") return { content: `2 \ud800 👩‍👩‍👧` };
      if (job.alias === "Orchestrator") return { content: `done 😀\udc00 שלום TASK_COMPLETE` };
      aliceCalls++;
      if (aliceCalls === 1)
        return {
          content: `let me 𝕏${HALF}`,
          tool_calls: [
            {
              id: "call-1",
              name: "calculator",
              args: { expression: "1+1\udc00", [`k${HALF}`]: [`v\ud800`] },
            },
          ],
        };
      return { error: `failed at e\u0301 ${HALF}` };
    });
    const { turnId } = await h.post(g, "@[Alice] 𝕏𝕪𝕫 مرحبا");
    const turn = await h.waitTurn(turnId);
    expect(turn).toMatchObject({ status: "ended", reason: "completed" });

    const msgs = await h.messages(g.groupId);
    expect(msgs.map((m) => [m.sender_type, m.sender_alias, m.content])).toEqual([
      ["user", "user", "@[Alice] 𝕏𝕪𝕫 مرحبا"],
      ["agent", "Alice", "let me 𝕏\ufffd"],
      ["tool", "calculator", "2 \ufffd 👩‍👩‍👧"],
      ["system", "system", "Alice could not answer: failed at e\u0301 \ufffd"],
      ["agent", "Orchestrator", "done 😀\ufffd שלום"],
    ]);
    expect(msgs[1]!.tool_calls).toEqual([
      { id: "call-1", name: "calculator", args: { expression: "1+1\ufffd", "k\ufffd": ["v\ufffd"] } },
    ]);
  });
});
