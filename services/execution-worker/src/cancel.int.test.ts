import { announceCancel, cancelKey } from "@synapse/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeLlmServer, startFakeLlmServer } from "../../../test/fakes/llm-server.ts";
import { testConfig, testResources, testUrls } from "../../../test/support/services.ts";
import {
  addMessage,
  addTurn,
  collectFrames,
  llmJob,
  seedGroup,
  sleep,
  startWorkerUnderTest,
  toolJob,
  type WorkerUnderTest,
} from "../test/fixtures.ts";

const res = testResources();
let fake: FakeLlmServer;
let w: WorkerUnderTest;

beforeAll(async () => {
  fake = await startFakeLlmServer();
  const config = testConfig({
    ...fake.env,
  });
  w = await startWorkerUnderTest(res.pool, config, { backoff: { baseMs: 10 } });
});

afterAll(async () => {
  await w?.close();
  await fake?.close();
  await res.close();
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await sleep(10);
  }
}

describe.each(["openai", "claude", "gemini"] as const)("cancel during a slow %s stream", (provider) => {
  it("aborts the request, publishes nothing after the cancel and adds no result", async () => {
    const g = await seedGroup(res.pool, { agents: [{ alias: "Slow", provider, model: `slow-${provider}` }] });
    const m = await addMessage(res.pool, g, { content: "tell me a long story" });
    const job = llmJob(g, g.agents[0]!, m.seq);
    fake.respond({ text: Array.from({ length: 40 }, (_, i) => `word${i}`).join(" "), chunkDelayMs: 50 });
    const sub = await collectFrames(testUrls().redisUrl, w.prefix, g.groupId);
    const before = fake.requests.length;
    await w.driver.addLlm(job);
    await waitFor(() => sub.frames.some((f) => f.type === "token"));
    await announceCancel(res.redis, w.prefix, g.groupId, job.turn_id);
    await sleep(600);
    await sub.close();

    const req = fake.requests.slice(before).find((r) => r.model === `slow-${provider}`)!;
    expect(req.closedEarly).toBe(true);
    const cancelAt = sub.frames.findIndex((f) => f.type === "_turn.cancelled");
    expect(cancelAt).toBeGreaterThan(0);
    expect(sub.frames.slice(cancelAt + 1)).toEqual([]);
    const streamed = sub.frames.filter((f) => f.type === "token").length;
    expect(streamed).toBeLessThan(40);
    expect(await w.driver.hasResult(job.dispatch_id)).toBe(false);
  });
});

describe("cancel", () => {
  it("a job of an already cancelled turn does nothing", async () => {
    const g = await seedGroup(res.pool, {
      agents: [{ alias: "Late", provider: "openai", model: "late-model" }],
    });
    const m = await addMessage(res.pool, g, { content: "hi" });
    const job = llmJob(g, g.agents[0]!, m.seq);
    // as the cancel route leaves it: ended in the database, then announced
    await addTurn(res.pool, g, m, { id: job.turn_id, reason: "cancelled" });
    await res.redis.set(cancelKey(w.prefix, job.turn_id), "1", "EX", 60);
    const before = fake.requests.length;
    await w.driver.addLlm(job);
    const state = await w.driver.settled("llm", job.dispatch_id);
    expect(state).toBe("completed");
    expect(fake.requests.slice(before).some((r) => r.model === "late-model")).toBe(false);
    expect(await w.driver.hasResult(job.dispatch_id)).toBe(false);
  });

  it("a tool job of a turn that has ended does nothing", async () => {
    const g = await seedGroup(res.pool, { agents: [{ alias: "Searcher", tools: ["web_search"] }] });
    const m = await addMessage(res.pool, g, { content: "hi" });
    const job = toolJob(g, g.agents[0]!, "web_search", { query: "too late" });
    await addTurn(res.pool, g, m, { id: job.turn_id, reason: "error" });
    const before = fake.searches.length;
    await w.driver.addTool(job);
    expect(await w.driver.settled("tool", job.dispatch_id)).toBe("completed");
    expect(fake.searches.length).toBe(before);
    expect(await w.driver.hasResult(job.dispatch_id)).toBe(false);
  });

  it("jobs of a group deleted after their dispatch do nothing", async () => {
    const g = await seedGroup(res.pool, {
      agents: [{ alias: "Orphan", provider: "openai", model: "orphan-model", tools: ["web_search"] }],
    });
    const m = await addMessage(res.pool, g, { content: "hi" });
    const turnId = await addTurn(res.pool, g, m, { status: "running" });
    const llm = llmJob(g, g.agents[0]!, m.seq, turnId);
    const tool = toolJob(g, g.agents[0]!, "web_search", { query: "orphaned" }, turnId);
    await res.pool.query("delete from groups where id = $1", [g.groupId]);
    const [requests, searches] = [fake.requests.length, fake.searches.length];
    await w.driver.addLlm(llm);
    await w.driver.addTool(tool);
    expect(await w.driver.settled("llm", llm.dispatch_id)).toBe("completed");
    expect(await w.driver.settled("tool", tool.dispatch_id)).toBe("completed");
    expect(fake.requests.slice(requests).some((r) => r.model === "orphan-model")).toBe(false);
    expect(fake.searches.length).toBe(searches);
    expect(await w.driver.hasResult(llm.dispatch_id)).toBe(false);
    expect(await w.driver.hasResult(tool.dispatch_id)).toBe(false);
  });

  it("aborts an in-flight web_search", async () => {
    const g = await seedGroup(res.pool, { agents: [{ alias: "Searcher", tools: ["web_search"] }] });
    fake.onSearch(async () => ({ delayMs: 2000, results: [] }));
    const job = toolJob(g, g.agents[0]!, "web_search", { query: "slow things" });
    const before = fake.searches.length;
    await w.driver.addTool(job);
    await waitFor(() => fake.searches.length > before);
    const t0 = Date.now();
    await announceCancel(res.redis, w.prefix, g.groupId, job.turn_id);
    // the job ends well before the search would have answered
    expect(await w.driver.settled("tool", job.dispatch_id, 1500)).toBe("completed");
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(await w.driver.hasResult(job.dispatch_id)).toBe(false);
  });
});
