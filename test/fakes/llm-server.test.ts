import { ChatAnthropic } from "@langchain/anthropic";
import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import { ChatGoogleGenerativeAI } from "@langchain/google-genai";
import { ChatOpenAI } from "@langchain/openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeLlmServer, startFakeLlmServer } from "./llm-server.ts";

let fake: FakeLlmServer;
beforeAll(async () => {
  fake = await startFakeLlmServer();
});
afterAll(async () => {
  await fake.close();
});

const tool = {
  type: "function",
  function: {
    name: "calculator",
    description: "calc",
    parameters: { type: "object", properties: { expression: { type: "string" } } },
  },
};

const clients = {
  openai: () =>
    new ChatOpenAI({
      model: "gpt-x",
      apiKey: "k",
      configuration: { baseURL: fake.openaiBaseUrl },
      maxRetries: 0,
    }),
  anthropic: () =>
    new ChatAnthropic({
      model: "claude-x",
      apiKey: "k",
      anthropicApiUrl: fake.anthropicBaseUrl,
      maxRetries: 0,
    }),
  gemini: () =>
    new ChatGoogleGenerativeAI({
      model: "gemini-x",
      apiKey: "k",
      baseUrl: fake.geminiBaseUrl,
      maxRetries: 0,
    }),
};

describe.each(Object.keys(clients) as (keyof typeof clients)[])(
  "fake %s protocol (non-streaming invoke)",
  (name) => {
    it("answers text and tool calls and records the normalized request", async () => {
      fake.reset();
      fake.enqueue({
        text: "sure",
        toolCalls: [{ name: "calculator", args: { expression: "1+1" } }],
        usage: { input_tokens: 7, output_tokens: 3 },
      });
      const model = clients[name]().bindTools([tool]);
      const msg = await model.invoke([new SystemMessage("be brief"), new HumanMessage("hi")]);
      expect(msg.text).toBe("sure");
      expect(msg.tool_calls).toMatchObject([{ name: "calculator", args: { expression: "1+1" } }]);
      expect(msg.usage_metadata).toMatchObject({ input_tokens: 7, output_tokens: 3 });
      expect(fake.requests).toHaveLength(1);
      expect(fake.requests[0]).toMatchObject({
        provider: name,
        stream: false,
        system: "be brief",
        tools: ["calculator"],
        messages: [{ role: "user", content: "hi" }],
        apiKey: "k",
      });
    });

    it("answers errors with the status asked for", async () => {
      fake.reset();
      fake.enqueue({ status: 400, error: "nope" });
      await expect(clients[name]().invoke("hi")).rejects.toThrow(/400|nope/);
    });
  },
);

describe("fake reset", () => {
  it("forgets the search handler too", async () => {
    fake.onSearch(() => ({ results: [] }));
    fake.reset();
    const res = await fetch(`${fake.tavilyBaseUrl}/search`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer tvly-k" },
      body: JSON.stringify({ query: "cats", max_results: 2 }),
    });
    const body = (await res.json()) as { results: unknown[] };
    expect(body.results).toHaveLength(2);
  });
});
