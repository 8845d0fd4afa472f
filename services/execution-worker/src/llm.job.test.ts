import { AIMessageChunk } from "@langchain/core/messages";
import { FakeStreamingChatModel } from "@langchain/core/utils/testing";
import type { Config, LlmJob } from "@synapse/shared";
import type { Redis } from "ioredis";
import type pg from "pg";
import pino from "pino";
import { describe, expect, it } from "vitest";
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

describe("runLlmJob", () => {
  it("keeps every text part of multi-part content, in the reply and in the streamed deltas", async () => {
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
    const chunks = [
      new AIMessageChunk({ content: [{ type: "text", text: "Roses are red, " }] }),
      new AIMessageChunk({
        content: [
          { type: "text", text: "violets " },
          { type: "text", text: "are blue." },
        ],
      }),
    ];
    const config = {
      QUEUE_PREFIX: "t",
      CONTEXT_MESSAGES: 10,
      LLM_TIMEOUT_MS: 5000,
      LLM_MAX_RETRIES: 0,
      OPENAI_ENDPOINTS: {},
    };
    const providers = createProviderRegistry(config as unknown as Config, {
      stub: () => new FakeStreamingChatModel({ chunks, sleep: 1 }),
    });
    const out = await runLlmJob(
      job,
      new AbortController().signal,
      { config, pool, redis, providers },
      pino({ level: "silent" }),
    );
    expect(out).toMatchObject({ kind: "llm", content: "Roses are red, violets are blue." });
    expect(published.join("")).toBe("Roses are red, violets are blue.");
  });
});
