import { AIMessageChunk } from "@langchain/core/messages";
import { FakeStreamingChatModel } from "@langchain/core/utils/testing";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { Config, LlmJob } from "@synapse/shared";
import { startTracing, type Tracing } from "@synapse/shared/telemetry/tracing";
import type { Redis } from "ioredis";
import type pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentRow } from "./agents.ts";
import { runLlmJob } from "./llm.job.ts";
import { createProviderRegistry } from "./providers/registry.ts";

/** Unit level: pool and Redis are minimal stand-ins; the real ones are covered by the *.int tests. */
const agent: AgentRow = {
  id: "00000000-0000-4000-8000-000000000001",
  group_id: "00000000-0000-4000-8000-000000000002",
  alias: "Poet",
  role_prompt: "",
  provider: "stub",
  model: "m",
  temperature: 0,
  tools: [],
  is_orchestrator: false,
};
const job: LlmJob = {
  group_id: agent.group_id,
  turn_id: "00000000-0000-4000-8000-000000000003",
  dispatch_id: "d1",
  agent_id: agent.id,
  alias: "Poet",
  message_id: "00000000-0000-4000-8000-000000000004",
  until_seq: 1,
};
// answers the job's one statement: turn status, team, window
const pool = {
  query: async () => ({
    rows: [
      {
        turn_status: "running",
        team: [agent],
        window: [
          {
            id: "m1",
            seq: 1,
            sender_type: "user",
            sender_alias: "bob",
            content: "a poem",
            tool_calls: null,
            tool_call_id: null,
            meta: null,
          },
        ],
      },
    ],
  }),
} as unknown as pg.Pool;

const tracer = new InMemorySpanExporter();
let tracing: Tracing;
beforeAll(() => {
  tracing = startTracing("test", { processor: new SimpleSpanProcessor(tracer) });
});
afterAll(() => tracing.shutdown());

/** Runs `job` against a stub provider streaming `chunks`; returns the result and the published deltas. */
async function run(chunks: AIMessageChunk[], opts: { job?: LlmJob; capture?: boolean } = {}) {
  const published: string[] = [];
  // a token is published in a pipeline beside its reply's stored text: keep the PUBLISHes
  const pipeline = (): object => {
    const p: object = new Proxy(
      {},
      {
        get: (_t, name) =>
          name === "exec"
            ? async () => []
            : (...args: unknown[]) => {
                if (name === "publish") published.push(JSON.parse(args[1] as string).delta);
                return p;
              },
      },
    );
    return p;
  };
  const redis = { pipeline } as unknown as Redis;
  const config = {
    QUEUE_PREFIX: "t",
    CONTEXT_MESSAGES: 10,
    LLM_TIMEOUT_MS: 5000,
    LLM_MAX_RETRIES: 0,
    OPENAI_ENDPOINTS: {},
    OTEL_CAPTURE_CONTENT: opts.capture ?? false,
  };
  const providers = createProviderRegistry(config as unknown as Config, {
    stub: () => new FakeStreamingChatModel({ chunks, sleep: 1 }),
  });
  const out = await runLlmJob(
    opts.job ?? job,
    new AbortController().signal,
    { config, pool, redis, providers },
    pino({ level: "silent" }),
  );
  return { out, published };
}

describe("runLlmJob", () => {
  it("keeps every text part of multi-part content, in the reply and in the streamed deltas", async () => {
    const { out, published } = await run([
      new AIMessageChunk({ content: [{ type: "text", text: "Roses are red, " }] }),
      new AIMessageChunk({
        content: [
          { type: "text", text: "violets " },
          { type: "text", text: "are blue." },
        ],
      }),
    ]);
    expect(out).toMatchObject({ kind: "llm", content: "Roses are red, violets are blue." });
    expect(published.join("")).toBe("Roses are red, violets are blue.");
  });

  it("runs the call in a 'chat {model}' span under the job's trace, with its reply only when captured", async () => {
    const parent = { trace: "0af7651916cd43dd8448eb211c80319c", span: "b7ad6b7169203331" };
    const traced = { ...job, trace: { traceparent: `00-${parent.trace}-${parent.span}-01` } };
    const reply = () => [new AIMessageChunk({ content: "x".repeat(5000) })];
    for (const capture of [false, true]) {
      tracer.reset();
      await run(reply(), { job: traced, capture });
      const [span] = tracer.getFinishedSpans();
      expect(span?.name).toBe("chat m");
      expect(span?.spanContext().traceId).toBe(parent.trace);
      expect(span?.parentSpanContext?.spanId).toBe(parent.span);
      expect(span?.attributes).toMatchObject({ "gen_ai.system": "stub", "gen_ai.request.model": "m" });
      // a long reply is cut to the bound (and an ellipsis)
      expect(span?.attributes["synapse.reply"]).toBe(capture ? `${"x".repeat(4096)}…` : undefined);
    }
  });
});
