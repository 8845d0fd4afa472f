import { EXECUTION_QUEUE, type Message, ORCHESTRATOR_QUEUE } from "@synapse/shared";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentOf, isFrame, openSocket, type Stack, startStack } from "./stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { QUEUE_KEEP_COMPLETED: "150", QUEUE_KEEP_FAILED: "250" } });
});
afterAll(async () => {
  await stack?.close();
});

describe("job retention", () => {
  it("every job of a turn, whoever added it, carries the configured retention", {
    timeout: 30_000,
  }, async () => {
    stack.fake.respond((req) => {
      if (agentOf(req.system) === "Alice") return { text: "alice-answer" };
      const answered = req.messages.some((m) => m.content.includes("alice-answer"));
      return { text: answered ? "Done. TASK_COMPLETE" : "@[Alice] please answer" };
    });
    const owner = await stack.user();
    const group = await stack.group(owner.token, "retention", ["Alice"]);
    const live = await openSocket(stack, group.id, owner.token);
    const posted = await stack.api<Message>("POST", `/groups/${group.id}/messages`, {
      token: owner.token,
      body: { content: "a question" },
    });
    const ended = await live.waitFor(isFrame("turn.ended", (f) => f.turn_id === posted.body.turn_id));
    live.close();
    expect(ended.reason).toBe("completed");

    const { QUEUE_PREFIX: prefix, REDIS_URL: url } = stack.config;
    const queues = [ORCHESTRATOR_QUEUE, EXECUTION_QUEUE].map(
      (name) => new Queue(name, { connection: { url }, prefix }),
    );
    // the job whose step ended the turn announces it before BullMQ marks that job completed
    let finished: { name: string; opts: object }[] = [];
    for (const deadline = Date.now() + 10_000; finished.length < 7 && Date.now() < deadline; ) {
      finished = (await Promise.all(queues.map((q) => q.getJobs(["completed", "failed"])))).flat();
      if (finished.length < 7) await new Promise((r) => setTimeout(r, 50));
    }
    await Promise.all(queues.map((q) => q.close()));
    // the gateway's `advance`, the orchestrator's `llm` calls, the worker's `result`s
    expect(finished.map((j) => j.name).sort()).toEqual(
      ["advance", "llm", "llm", "llm", "result", "result", "result"].sort(),
    );
    for (const job of finished)
      expect(job.opts).toMatchObject({ removeOnComplete: { count: 150 }, removeOnFail: { count: 250 } });
  });
});
