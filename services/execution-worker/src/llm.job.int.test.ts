import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeLlmServer, startFakeLlmServer } from "../../../test/fakes/llm-server.ts";
import { testConfig, testResources, testUrls } from "../../../test/support/services.ts";
import {
  addMessage,
  collectFrames,
  llmJob,
  seedGroup,
  startWorkerUnderTest,
  type WorkerUnderTest,
} from "../test/fixtures.ts";
import { safeName } from "./context.ts";
import { runLlmJob } from "./llm.job.ts";
import { createProviderRegistry } from "./providers/registry.ts";

const res = testResources();
let fake: FakeLlmServer;
let w: WorkerUnderTest;

beforeAll(async () => {
  fake = await startFakeLlmServer();
  const config = testConfig({
    ...fake.env,
    LLM_MAX_RETRIES: "3",
    OPENAI_ENDPOINTS: `local=${fake.openaiBaseUrl}`,
  });
  w = await startWorkerUnderTest(res.pool, config, { backoff: { baseMs: 10, maxMs: 50 } });
});

afterAll(async () => {
  await w?.close();
  await fake?.close();
  await res.close();
});

describe.each([
  ["openai", "gpt-4o-mini"],
  ["claude", "claude-sonnet-4-5"],
  ["gemini", "gemini-2.5-flash"],
] as const)("llm job on %s", (provider, model) => {
  it("streams token frames and returns text, tool_calls and usage", async () => {
    const g = await seedGroup(res.pool, {
      agents: [{ alias: "Calc", provider, model, tools: ["calculator", "current_time"] }],
    });
    const agent = g.agents[0]!;
    const m = await addMessage(res.pool, g, { content: "what is 6*7?" });
    const job = llmJob(g, agent, m.seq);
    fake.respond((req) =>
      req.model === model
        ? {
            text: "Let me compute that for you.",
            toolCalls: [{ name: "calculator", args: { expression: "6*7" } }],
            usage: { input_tokens: 123, output_tokens: 45 },
          }
        : { status: 500 },
    );
    const sub = await collectFrames(testUrls().redisUrl, w.prefix, g.groupId);
    const before = fake.requests.length;
    await w.driver.addLlm(job);
    const out = await w.driver.result(job.dispatch_id);
    await sub.close();

    expect(out).toMatchObject({ group_id: g.groupId, turn_id: job.turn_id, dispatch_id: job.dispatch_id });
    expect(out.result).toMatchObject({
      kind: "llm",
      ok: true,
      alias: "Calc",
      agent_id: agent.id,
      message_id: job.message_id,
      content: "Let me compute that for you.",
      usage: { input_tokens: 123, output_tokens: 45 },
    });
    if (out.result.kind !== "llm") throw new Error("not an llm result");
    expect(out.result.tool_calls).toHaveLength(1);
    expect(out.result.tool_calls[0]).toMatchObject({ name: "calculator", args: { expression: "6*7" } });
    expect(out.result.tool_calls[0]!.id).toBeTruthy();

    const tokens = sub.frames.filter((f) => f.type === "token");
    expect(tokens.length).toBeGreaterThan(0);
    expect(tokens.map((t) => (t.type === "token" ? t.delta : "")).join("")).toBe(
      "Let me compute that for you.",
    );
    expect(tokens[0]).toMatchObject({ alias: "Calc", message_id: job.message_id, turn_id: job.turn_id });

    const req = fake.requests.slice(before).find((r) => r.model === model)!;
    expect(req.stream).toBe(true);
    expect(req.tools.sort()).toEqual(["calculator", "current_time"]);
    expect(req.system).toContain("You are Calc");
    expect(req.messages.at(-1)).toMatchObject({ role: "user", content: `[${g.email}]: what is 6*7?` });
    expect(req.apiKey).toMatch(/test/);
  });
});

describe("retries", () => {
  it("retries a 429 without Retry-After and a 500, then succeeds", async () => {
    const g = await seedGroup(res.pool, {
      agents: [{ alias: "R", provider: "openai", model: "retry-model" }],
    });
    const m = await addMessage(res.pool, g, { content: "hi" });
    const job = llmJob(g, g.agents[0]!, m.seq);
    const before = fake.requests.length;
    fake.respond((req) => (req.model === "retry-model" ? { text: "finally" } : { status: 500 }));
    fake.enqueue({ status: 429 }, { status: 500 });
    await w.driver.addLlm(job);
    const out = await w.driver.result(job.dispatch_id);
    expect(out.result).toMatchObject({ kind: "llm", content: "finally" });
    expect(fake.requests.slice(before).filter((r) => r.model === "retry-model")).toHaveLength(3);
  });

  it("honours Retry-After on a 429", async () => {
    const g = await seedGroup(res.pool, {
      agents: [{ alias: "R", provider: "claude", model: "retry-after" }],
    });
    const m = await addMessage(res.pool, g, { content: "hi" });
    const job = llmJob(g, g.agents[0]!, m.seq);
    fake.respond({ text: "ok after wait" });
    fake.enqueue({ status: 429, headers: { "retry-after": "0.3" } });
    const t0 = Date.now();
    await w.driver.addLlm(job);
    const out = await w.driver.result(job.dispatch_id);
    expect(out.result).toMatchObject({ kind: "llm", content: "ok after wait" });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
  });

  it("does not retry a 401: one request, then llm_error", async () => {
    const g = await seedGroup(res.pool, {
      agents: [{ alias: "A", provider: "gemini", model: "auth-fails" }],
    });
    const m = await addMessage(res.pool, g, { content: "hi" });
    const job = llmJob(g, g.agents[0]!, m.seq);
    const before = fake.requests.length;
    fake.respond((req) => (req.model === "auth-fails" ? { status: 401, error: "bad key" } : {}));
    await w.driver.addLlm(job);
    const out = await w.driver.result(job.dispatch_id);
    expect(out.result).toMatchObject({
      kind: "llm_error",
      ok: false,
      alias: "A",
      message_id: job.message_id,
    });
    if (out.result.kind !== "llm_error") throw new Error("expected llm_error");
    expect(out.result.error.code).toBe("provider_rejected");
    expect(out.result.error.detail).toContain("401");
    expect(fake.requests.slice(before).filter((r) => r.model === "auth-fails")).toHaveLength(1);
  });

  it("gives up after LLM_MAX_RETRIES on persistent 503", async () => {
    const g = await seedGroup(res.pool, {
      agents: [{ alias: "A", provider: "openai", model: "always-503" }],
    });
    const m = await addMessage(res.pool, g, { content: "hi" });
    const job = llmJob(g, g.agents[0]!, m.seq);
    const before = fake.requests.length;
    fake.respond({ status: 503 });
    await w.driver.addLlm(job);
    const out = await w.driver.result(job.dispatch_id);
    expect(out.result).toMatchObject({ kind: "llm_error", error: { code: "provider_unavailable" } });
    expect(fake.requests.slice(before).filter((r) => r.model === "always-503")).toHaveLength(4);
  });
});

describe("failures that need no request", () => {
  it("a provider without its key fails at once with a clear detail", async () => {
    // a configuration without any key; the job is run directly, no worker needed
    const config = testConfig();
    const g = await seedGroup(res.pool, { agents: [{ alias: "NoKey", provider: "claude", model: "x" }] });
    const m = await addMessage(res.pool, g, { content: "hi" });
    const job = llmJob(g, g.agents[0]!, m.seq);
    const out = await runLlmJob(
      job,
      new AbortController().signal,
      { config, pool: res.pool, redis: res.redis, providers: createProviderRegistry(config) },
      pino({ level: "silent" }),
    );
    expect(out).toMatchObject({
      kind: "llm_error",
      error: {
        code: "provider_not_configured",
        detail: "provider claude is not configured: set CLAUDE_API_KEY",
      },
    });
  });

  it("a deleted agent gives llm_error", async () => {
    const g = await seedGroup(res.pool, { agents: [{ alias: "Gone", provider: "openai", model: "m" }] });
    const m = await addMessage(res.pool, g, { content: "hi" });
    const job = llmJob(g, g.agents[0]!, m.seq);
    await res.pool.query("delete from agents where id = $1", [g.agents[0]!.id]);
    await w.driver.addLlm(job);
    const out = await w.driver.result(job.dispatch_id);
    expect(out.result).toMatchObject({ kind: "llm_error", error: { code: "agent_not_found" } });
  });
});

describe.each([
  ["openai", "ctx-openai"],
  ["claude", "ctx-claude"],
  ["gemini", "ctx-gemini"],
] as const)("context on the wire (%s)", (provider, model) => {
  it("sends own tool calls with their results, others as named users, no mid-history system role", async () => {
    const g = await seedGroup(res.pool, {
      agents: [
        { alias: "Calc", provider, model, tools: ["calculator"] },
        { alias: "Other", provider: "demo", model: "demo", tools: ["calculator"] },
      ],
    });
    const [calc] = g.agents;
    await addMessage(res.pool, g, { content: "add 1+1 and 2+2" });
    await addMessage(res.pool, g, {
      sender_type: "agent",
      sender_alias: "Orchestrator",
      content: "@[Calc] @[Other] please compute",
    });
    await addMessage(res.pool, g, {
      sender_type: "agent",
      sender_alias: "Calc",
      content: "",
      tool_calls: [
        { id: "call_a", name: "calculator", args: { expression: "1+1" } },
        { id: "call_b", name: "calculator", args: { expression: "2+2" } },
      ],
    });
    await addMessage(res.pool, g, {
      sender_type: "agent",
      sender_alias: "Other",
      content: "",
      tool_calls: [{ id: "call_x", name: "calculator", args: { expression: "9" } }],
    });
    await addMessage(res.pool, g, {
      sender_type: "tool",
      sender_alias: "calculator",
      content: "9",
      tool_call_id: "call_x",
    });
    await addMessage(res.pool, g, {
      sender_type: "tool",
      sender_alias: "calculator",
      content: "4",
      tool_call_id: "call_b",
    });
    await addMessage(res.pool, g, {
      sender_type: "system",
      sender_alias: "system",
      content: "Other is slow",
    });
    const last = await addMessage(res.pool, g, {
      sender_type: "tool",
      sender_alias: "calculator",
      content: "2",
      tool_call_id: "call_a",
    });
    fake.respond({ text: "1+1 is 2 and 2+2 is 4." });
    const before = fake.requests.length;
    const job = llmJob(g, calc!, last.seq);
    await w.driver.addLlm(job);
    const out = await w.driver.result(job.dispatch_id);
    expect(out.result).toMatchObject({ kind: "llm", content: "1+1 is 2 and 2+2 is 4." });

    const req = fake.requests.slice(before).find((r) => r.model === model)!;
    const roles = req.messages.map((m) => m.role);
    expect(roles).not.toContain("system");
    const ai = req.messages.findIndex((m) => m.role === "assistant");
    expect(req.messages[ai]!.tool_calls?.map((c) => c.name)).toEqual(["calculator", "calculator"]);
    // both results follow the call at once, in call order; the other agent's result is not there
    expect(req.messages.slice(ai + 1, ai + 3).map((m) => [m.role, m.content])).toEqual([
      ["tool", "2"],
      ["tool", "4"],
    ]);
    expect(req.messages.some((m) => m.content === "9")).toBe(false);
    if (provider !== "gemini") {
      const ids = req.messages[ai]!.tool_calls!.map((c) => c.id);
      expect(ids).toEqual(["call_a", "call_b"]);
      expect(req.messages.slice(ai + 1, ai + 3).map((m) => m.tool_call_id)).toEqual(ids);
    } else {
      // Gemini: both function responses in one content, right after the model's call
      const contents = req.body.contents as { role: string; parts: Record<string, unknown>[] }[];
      const callTurn = contents.findIndex((c) => c.parts.some((p) => "functionCall" in p));
      expect(contents[callTurn + 1]!.parts.filter((p) => "functionResponse" in p)).toHaveLength(2);
      for (let i = 1; i < contents.length; i++) expect(contents[i]!.role).not.toBe(contents[i - 1]!.role);
    }
    const all = req.messages.map((m) => m.content).join("\n");
    expect(all).toContain(`[${g.email}]: add 1+1 and 2+2`);
    expect(all).toContain("[Orchestrator]: @[Calc] @[Other] please compute");
    expect(all).toContain("[system notice] Other is slow");
    if (provider === "openai") {
      expect(req.messages[0]).toMatchObject({ role: "user", name: safeName(g.email) });
    }
  });
});

describe("provider names", () => {
  it.each([
    ["anthropic", "alias-model", "anthropic"],
    ["local", "llama3", "openai"],
  ])("%s reaches the right protocol", async (providerName, model, protocol) => {
    const g = await seedGroup(res.pool, { agents: [{ alias: "P", provider: providerName, model }] });
    const m = await addMessage(res.pool, g, { content: "hi" });
    const job = llmJob(g, g.agents[0]!, m.seq);
    fake.respond({ text: "hello" });
    const before = fake.requests.length;
    await w.driver.addLlm(job);
    expect((await w.driver.result(job.dispatch_id)).result).toMatchObject({ kind: "llm", content: "hello" });
    const req = fake.requests.slice(before).find((r) => r.model === model)!;
    expect(req.provider).toBe(protocol);
  });
});

describe("timeouts", () => {
  it("an attempt slower than LLM_TIMEOUT_MS is aborted and retried", async () => {
    const config = testConfig({
      OPENAI_API_KEY: "k",
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      LLM_TIMEOUT_MS: "1000",
      LLM_MAX_RETRIES: "1",
    });
    const g = await seedGroup(res.pool, {
      agents: [{ alias: "T", provider: "openai", model: "slow-then-fast" }],
    });
    const m = await addMessage(res.pool, g, { content: "hi" });
    const job = llmJob(g, g.agents[0]!, m.seq);
    fake.respond({ text: "fast now" });
    fake.enqueue({ text: "too late", delayMs: 1500 });
    const before = fake.requests.length;
    const out = await runLlmJob(
      job,
      new AbortController().signal,
      {
        config,
        pool: res.pool,
        redis: res.redis,
        providers: createProviderRegistry(config),
        backoff: { baseMs: 10 },
      },
      pino({ level: "silent" }),
    );
    expect(out).toMatchObject({ kind: "llm", content: "fast now" });
    const reqs = fake.requests.slice(before).filter((r) => r.model === "slow-then-fast");
    expect(reqs).toHaveLength(2);
    expect(reqs[0]!.closedEarly).toBe(true);
  });
});
