import { createServer } from "node:net";
import * as Anthropic from "@anthropic-ai/sdk";
import {
  GoogleGenerativeAIError,
  GoogleGenerativeAIFetchError,
  GoogleGenerativeAIResponseError,
} from "@google/generative-ai";
import { HumanMessage } from "@langchain/core/messages";
import { ProviderError } from "@synapse/shared";
import * as OpenAI from "openai";
import { describe, expect, it } from "vitest";
import type { AgentRow } from "../agents.ts";
import { anthropicProvider } from "./anthropic.ts";
import { ProviderTimeoutError } from "./errors.ts";
import { geminiProvider } from "./gemini.ts";
import { openaiProvider } from "./openai.ts";
import { classifyProviderError, parseRetryAfter } from "./retry.ts";
import type { ProviderFactory } from "./types.ts";

const headers = (h: Record<string, string> = {}) => new Headers(h);

describe("classifyProviderError by HTTP status", () => {
  const sdkErrors = [
    [
      "openai",
      (s: number, h?: Headers) => OpenAI.APIError.generate(s, { message: "m" }, "m", h ?? headers()),
    ],
    [
      "claude",
      (s: number, h?: Headers) => Anthropic.APIError.generate(s, { message: "m" }, "m", h ?? headers()),
    ],
    ["gemini", (s: number) => new GoogleGenerativeAIFetchError(`[${s} x] m`, s, "x")],
  ] as const;

  it.each(sdkErrors)("%s: 408, 409, 429 and 5xx retry; other 4xx do not", (provider, make) => {
    for (const s of [408, 409, 429, 500, 502, 503, 529])
      expect(classifyProviderError(make(s), provider)).toMatchObject({ retryable: true, status: s });
    for (const s of [400, 401, 403, 404, 422])
      expect(classifyProviderError(make(s), provider)).toMatchObject({ retryable: false, status: s });
  });

  it.each(sdkErrors)("%s: the detail names the provider and the status", (provider, make) => {
    expect(classifyProviderError(make(401), provider).detail).toMatch(
      new RegExp(`^${provider} returned 401: `),
    );
  });

  it("reads Retry-After from the SDK error's headers", () => {
    const err = OpenAI.APIError.generate(429, undefined, "slow down", headers({ "retry-after": "2" }));
    expect(classifyProviderError(err, "openai")).toMatchObject({ retryable: true, retryAfterMs: 2000 });
    const claude = Anthropic.APIError.generate(529, undefined, "busy", headers({ "retry-after": "1" }));
    expect(classifyProviderError(claude, "claude")).toMatchObject({ retryable: true, retryAfterMs: 1000 });
  });

  it("a 429 for an exhausted quota does not retry", () => {
    // the SDK reads `code` from the body's `error` object, as OpenAI sends it
    const body = { error: { code: "insufficient_quota", message: "quota" } };
    const err = OpenAI.APIError.generate(429, body, "quota", headers());
    expect(classifyProviderError(err, "openai")).toMatchObject({ retryable: false, status: 429 });
  });

  it("takes the status of other clients from status, statusCode or response.status", () => {
    expect(classifyProviderError({ statusCode: 503, message: "x" }, "p")).toMatchObject({ status: 503 });
    expect(classifyProviderError({ response: { status: 404 } }, "p")).toMatchObject({
      status: 404,
      retryable: false,
    });
  });

  it("does not read a status from the message text", () => {
    expect(classifyProviderError(new Error("upstream said [429 Too Many Requests]"), "p")).toEqual({
      retryable: false,
      detail: "p call failed: upstream said [429 Too Many Requests]",
    });
  });
});

describe("classifyProviderError by error class", () => {
  it("the SDKs' connection errors (and their timeouts) retry", () => {
    for (const err of [
      new OpenAI.APIConnectionError({ message: "Connection error." }),
      new OpenAI.APIConnectionTimeoutError(),
      new Anthropic.APIConnectionError({ message: "Connection error." }),
      new Anthropic.APIConnectionTimeoutError(),
    ])
      expect(classifyProviderError(err, "x")).toMatchObject({
        retryable: true,
        detail: expect.stringMatching(/^x unreachable: /),
      });
  });

  it("Gemini: its base class (a failed fetch or stream) retries; its subclasses do not", () => {
    expect(
      classifyProviderError(new GoogleGenerativeAIError("Error reading from the stream"), "gemini"),
    ).toMatchObject({
      retryable: true,
    });
    expect(classifyProviderError(new GoogleGenerativeAIResponseError("blocked"), "gemini")).toMatchObject({
      retryable: false,
    });
  });

  it("a system error code anywhere in the cause chain retries; a message alone does not", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    expect(classifyProviderError(new TypeError("fetch failed", { cause: refused }), "p").retryable).toBe(
      true,
    );
    const socket = Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" });
    expect(classifyProviderError(new TypeError("terminated", { cause: socket }), "p").retryable).toBe(true);
    expect(classifyProviderError(new AggregateError([refused]), "p").retryable).toBe(true);
    expect(classifyProviderError(new Error("network is down, fetch failed"), "p").retryable).toBe(false);
  });

  it("Anthropic: an error event mid-stream (no status) retries when overloaded, not when invalid", () => {
    const event = (type: string) =>
      new Anthropic.APIError(
        undefined,
        { type: "error", error: { type, message: type } },
        undefined,
        new Headers(),
        type as ConstructorParameters<typeof Anthropic.APIError>[4],
      );
    expect(classifyProviderError(event("overloaded_error"), "anthropic").retryable).toBe(true);
    expect(classifyProviderError(event("api_error"), "anthropic").retryable).toBe(true);
    expect(classifyProviderError(event("invalid_request_error"), "anthropic").retryable).toBe(false);
  });

  it("an Error named TimeoutError retries (LangChain's form of an SDK timeout)", () => {
    const err = Object.assign(new Error("Request timed out."), { name: "TimeoutError" });
    expect(classifyProviderError(err, "openai")).toMatchObject({ retryable: true });
  });

  it("our own ProviderErrors keep their retryable flag and message", () => {
    expect(classifyProviderError(new ProviderTimeoutError("openai", 50), "openai")).toEqual({
      retryable: true,
      status: undefined,
      detail: "openai did not answer within 50 ms",
    });
    expect(classifyProviderError(new ProviderError("no", false, 400), "p")).toMatchObject({
      retryable: false,
    });
  });

  it("an unknown error does not retry and keeps the first line of its message", () => {
    expect(classifyProviderError(new Error("boom\nTroubleshooting URL: x"), "p")).toEqual({
      retryable: false,
      detail: "p call failed: boom",
    });
    expect(classifyProviderError("plain", "p").detail).toBe("p call failed: plain");
  });
});

describe("classifyProviderError on what the real clients throw", () => {
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    await new Promise<void>((r) => server.close(() => r()));
    return port;
  }
  const agent = { model: "m", temperature: 0.5 } as AgentRow;
  const providers: [string, (url: string) => ProviderFactory][] = [
    ["openai", (url) => openaiProvider({ apiKey: "k", baseURL: `${url}/v1` })],
    ["claude", (url) => anthropicProvider({ apiKey: "k", baseURL: url })],
    ["gemini", (url) => geminiProvider({ apiKey: "k", baseUrl: url })],
  ];

  it.each(providers)("%s: a refused connection is retryable", async (provider, make) => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const model = make(url)({ agent, team: [], history: [] });
    const err = await (async () => {
      for await (const _ of await model.stream([new HumanMessage("hi")])) void _;
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(classifyProviderError(err, provider)).toMatchObject({
      retryable: true,
      detail: expect.stringMatching(new RegExp(`^${provider} unreachable: `)),
    });
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds or an HTTP date", () => {
    expect(parseRetryAfter("1.5")).toBe(1500);
    expect(parseRetryAfter("Thu, 01 Jan 1970 00:00:10 GMT", 4000)).toBe(6000);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
