import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeLlmServer, startFakeLlmServer } from "../../../test/fakes/llm-server.ts";
import { testConfig, testResources } from "../../../test/support/services.ts";
import {
  type QueueDriver,
  type SeededGroup,
  seedGroup,
  startWorkerUnderTest,
  toolJob,
  type WorkerUnderTest,
} from "../test/fixtures.ts";

const res = testResources();
let fake: FakeLlmServer;
const workers: WorkerUnderTest[] = [];

async function start(overrides: Record<string, string>): Promise<QueueDriver> {
  const w = await startWorkerUnderTest(res.pool, testConfig(overrides), {
    now: () => new Date("2026-01-02T03:04:05Z"),
  });
  workers.push(w);
  return w.driver;
}

let withKey: QueueDriver;
let withoutKey: QueueDriver;
let g: SeededGroup;

beforeAll(async () => {
  fake = await startFakeLlmServer();
  withKey = await start({ TAVILY_API_KEY: "tvly-test-key", TAVILY_BASE_URL: fake.tavilyBaseUrl });
  withoutKey = await start({});
  g = await seedGroup(res.pool, {
    agents: [
      { alias: "Tools", tools: ["calculator", "current_time", "web_search"] },
      { alias: "NoTools", tools: [] },
    ],
  });
});

afterAll(async () => {
  for (const w of workers) await w.close();
  await fake?.close();
  await res.close();
});

describe("tool jobs", () => {
  it("runs the calculator and returns the result for the calling agent", async () => {
    const job = toolJob(g, g.agents[0]!, "calculator", { expression: "(2+3)*4" });
    await withKey.addTool(job);
    const out = await withKey.result(job.dispatch_id);
    expect(out).toMatchObject({ group_id: g.groupId, turn_id: job.turn_id, dispatch_id: job.dispatch_id });
    expect(out.result).toEqual({
      kind: "tool",
      ok: true,
      alias: "Tools",
      agent_id: g.agents[0]!.id,
      message_id: job.message_id,
      tool_name: "calculator",
      tool_call_id: job.tool_call.id,
      content: "20",
      is_error: false,
    });
  });

  it("returns bad arguments to the agent as an error", async () => {
    const job = toolJob(g, g.agents[0]!, "calculator", { expression: 42 });
    await withKey.addTool(job);
    const out = await withKey.result(job.dispatch_id);
    expect(out.result).toMatchObject({ kind: "tool", is_error: true, tool_call_id: job.tool_call.id });
    if (out.result.kind !== "tool") throw new Error("not a tool result");
    expect(out.result.content).toContain("invalid arguments for calculator");
  });

  it("refuses a tool the agent does not have, and an unknown tool", async () => {
    const notMine = toolJob(g, g.agents[1]!, "calculator", { expression: "1+1" });
    const unknown = toolJob(g, g.agents[0]!, "shell", { cmd: "ls" });
    await withKey.addTool(notMine);
    await withKey.addTool(unknown);
    expect((await withKey.result(notMine.dispatch_id)).result).toMatchObject({
      is_error: true,
      content: 'tool "calculator" is not available to NoTools',
    });
    expect((await withKey.result(unknown.dispatch_id)).result).toMatchObject({
      is_error: true,
      content: 'unknown tool "shell"',
    });
  });

  it("tells the time", async () => {
    const job = toolJob(g, g.agents[0]!, "current_time", { timezone: "Asia/Tokyo" });
    await withKey.addTool(job);
    const out = await withKey.result(job.dispatch_id);
    expect(out.result).toMatchObject({ is_error: false });
    if (out.result.kind !== "tool") throw new Error("not a tool result");
    expect(out.result.content).toContain("12:04:05");
  });

  it("searches through Tavily with the key and the signal", async () => {
    fake.onSearch((s) => ({
      results: [{ title: `About ${s.query}`, url: "https://example.org/a", content: "Snippet A" }],
    }));
    const job = toolJob(g, g.agents[0]!, "web_search", { query: "synapse chat", max_results: 3 });
    await withKey.addTool(job);
    const out = await withKey.result(job.dispatch_id);
    expect(out.result).toMatchObject({ is_error: false });
    if (out.result.kind !== "tool") throw new Error("not a tool result");
    expect(out.result.content).toContain("About synapse chat — https://example.org/a");
    const s = fake.searches.at(-1)!;
    expect(s).toMatchObject({ query: "synapse chat", max_results: 3, apiKey: "tvly-test-key" });
  });

  it("returns a Tavily HTTP failure as an error", async () => {
    fake.onSearch(() => ({ status: 500 }));
    const job = toolJob(g, g.agents[0]!, "web_search", { query: "boom" });
    await withKey.addTool(job);
    const out = await withKey.result(job.dispatch_id);
    expect(out.result).toMatchObject({
      is_error: true,
      content: "web_search failed: Tavily answered HTTP 500",
    });
  });

  it("without TAVILY_API_KEY web_search is disabled, and the worker still runs", async () => {
    const before = fake.searches.length;
    const job = toolJob(g, g.agents[0]!, "web_search", { query: "anything" });
    await withoutKey.addTool(job);
    const out = await withoutKey.result(job.dispatch_id);
    expect(out.result).toMatchObject({
      is_error: true,
      content: "web_search is disabled: TAVILY_API_KEY is not set",
    });
    expect(fake.searches.length).toBe(before);
  });
});
