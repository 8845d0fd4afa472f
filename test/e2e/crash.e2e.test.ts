import type { Message } from "@synapse/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentOf, isFrame, openSocket, type Stack, spawnService, startStack } from "./stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ noWorker: true });
});
afterAll(async () => {
  await stack?.close();
});

describe("a worker process killed in the middle of an LLM call", () => {
  it("the turn completes on another worker; nothing is stored or published twice", {
    timeout: 60_000,
  }, async () => {
    let writerCalls = 0;
    stack.fake.respond((req) => {
      const who = agentOf(req.system);
      if (who === "Writer") {
        writerCalls += 1;
        // the first attempt streams for a long time: its process is killed meanwhile
        return writerCalls === 1
          ? { chunks: Array.from({ length: 200 }, (_, i) => `slow${i} `), chunkDelayMs: 100 }
          : { text: "Here is the poem." };
      }
      const answered = req.messages.some((m) => m.content.includes("Here is the poem."));
      return { text: answered ? "All done. TASK_COMPLETE" : "@[Writer] write a poem" };
    });
    const owner = await stack.user();
    const group = await stack.group(owner.token, "crash", ["Writer"]);
    const live = await openSocket(stack, group.id, owner.token);

    // the worker as a real process, configured like the stack
    const { child, exited } = spawnService(stack, "execution-worker");
    try {
      const posted = await stack.api<Message>("POST", `/groups/${group.id}/messages`, {
        token: owner.token,
        body: { content: "a poem please" },
      });
      await live.waitFor(
        isFrame("token", (f) => f.alias === "Writer"),
        30_000,
      );
      child.kill("SIGKILL");
      await exited;
      const killedAt = Date.now();
      await stack.startWorker();

      const ended = await live.waitFor(
        isFrame("turn.ended", (f) => f.turn_id === posted.body.turn_id),
        40_000,
      );
      expect(ended.reason).toBe("completed");
      // stalled-job recovery resumed the step within 15 s of a live worker (plus the rest of the turn)
      expect(Date.now() - killedAt).toBeLessThan(20_000);
      expect(writerCalls).toBe(2);

      const stored = (
        await stack.api<Message[]>("GET", `/groups/${group.id}/messages`, { token: owner.token })
      ).body;
      expect(stored.map((m) => [m.seq, m.sender_alias, m.content])).toEqual([
        [1, owner.email, "a poem please"],
        [2, "Orchestrator", "@[Writer] write a poem"],
        [3, "Writer", "Here is the poem."],
        [4, "Orchestrator", "All done."],
      ]);
      const ids = live.frames.filter((f) => f.type === "message").map((f) => f.message.id);
      expect(ids).toEqual(stored.map((m) => m.id));
      expect(live.frames.filter((f) => f.type === "turn.ended")).toHaveLength(1);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      live.close();
    }
  });
});
