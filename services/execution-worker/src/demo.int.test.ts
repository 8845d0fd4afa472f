import type { ResultJob } from "@synapse/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testConfig, testResources, testUrls } from "../../../test/support/services.ts";
import {
  addMessage,
  collectFrames,
  llmJob,
  type SeededGroup,
  seedGroup,
  startWorkerUnderTest,
  toolJob,
  type WorkerUnderTest,
} from "../test/fixtures.ts";
import { DEMO_TAG } from "./providers/demo.ts";

const res = testResources();
let w: WorkerUnderTest;

beforeAll(async () => {
  // no provider key at all: demo is what a fresh install has
  const config = testConfig();
  w = await startWorkerUnderTest(res.pool, config);
});

afterAll(async () => {
  await w?.close();
  await res.close();
});

/** Runs an llm job and stores its answer as the orchestrator would. */
async function llmStep(g: SeededGroup, alias: string, turnId: string) {
  const agent = [g.orchestrator, ...g.agents].find((a) => a.alias === alias)!;
  const { rows } = await res.pool.query<{ last_seq: number }>("select last_seq from groups where id = $1", [
    g.groupId,
  ]);
  const job = llmJob(g, agent, rows[0]!.last_seq, turnId);
  await w.driver.addLlm(job);
  const out: ResultJob = await w.driver.result(job.dispatch_id);
  if (out.result.kind !== "llm") throw new Error(`expected an llm result, got ${JSON.stringify(out.result)}`);
  await addMessage(res.pool, g, {
    id: job.message_id,
    turn_id: turnId,
    sender_type: "agent",
    sender_alias: alias,
    content: out.result.content,
    tool_calls: out.result.tool_calls.length ? out.result.tool_calls : null,
  });
  return out.result;
}

async function toolStep(
  g: SeededGroup,
  alias: string,
  call: { id: string; name: string; args: Record<string, unknown> },
  turnId: string,
) {
  const agent = g.agents.find((a) => a.alias === alias)!;
  const job = { ...toolJob(g, agent, call.name, call.args, turnId), tool_call: call };
  await w.driver.addTool(job);
  const out = await w.driver.result(job.dispatch_id);
  if (out.result.kind !== "tool") throw new Error("expected a tool result");
  await addMessage(res.pool, g, {
    id: job.message_id,
    turn_id: turnId,
    sender_type: "tool",
    sender_alias: call.name,
    content: out.result.content,
    tool_call_id: call.id,
  });
  return out.result;
}

describe("demo provider", () => {
  it("shows the whole flow: delegate, tool call, answer, TASK_COMPLETE — streamed", async () => {
    const g = await seedGroup(res.pool, {
      agents: [
        { alias: "Writer", tools: [] },
        { alias: "Calc", tools: ["calculator"] },
      ],
    });
    const turn = crypto.randomUUID();
    await addMessage(res.pool, g, { content: "Please work out 12 * (3 + 4) for me" });
    const sub = await collectFrames(testUrls().redisUrl, w.prefix, g.groupId);

    const delegate = await llmStep(g, "Orchestrator", turn);
    expect(delegate.content).toContain(DEMO_TAG);
    expect(delegate.content).toContain("@[Calc]");
    expect(delegate.content).not.toContain("TASK_COMPLETE");

    const call = await llmStep(g, "Calc", turn);
    expect(call.tool_calls).toEqual([
      { id: expect.any(String), name: "calculator", args: { expression: "12 * (3 + 4)" } },
    ]);
    const tool = await toolStep(g, "Calc", call.tool_calls[0]!, turn);
    expect(tool).toMatchObject({ content: "84", is_error: false });

    const answer = await llmStep(g, "Calc", turn);
    expect(answer.content).toContain("84");
    expect(answer.tool_calls).toEqual([]);

    const done = await llmStep(g, "Orchestrator", turn);
    expect(done.content).toContain("TASK_COMPLETE");
    expect(done.content).not.toMatch(/@\[/);
    expect(done.usage.output_tokens).toBeGreaterThan(0);
    await sub.close();

    const tokens = sub.frames.flatMap((f) => (f.type === "token" ? [f] : []));
    const orchestratorText = tokens
      .filter((t) => t.alias === "Orchestrator")
      .map((t) => t.delta)
      .join("");
    expect(orchestratorText).toBe(delegate.content + done.content);
  });

  it("asks the time through current_time", async () => {
    const g = await seedGroup(res.pool, { agents: [{ alias: "Clock", tools: ["current_time"] }] });
    const turn = crypto.randomUUID();
    await addMessage(res.pool, g, { content: "@[Clock] what time is it?" });
    const call = await llmStep(g, "Clock", turn);
    expect(call.tool_calls).toMatchObject([{ name: "current_time", args: {} }]);
  });

  it("completes at once in a group without agents", async () => {
    const g = await seedGroup(res.pool);
    await addMessage(res.pool, g, { content: "hello?" });
    const r = await llmStep(g, "Orchestrator", crypto.randomUUID());
    expect(r.content).toContain("no agents");
    expect(r.content).toContain("TASK_COMPLETE");
  });
});
