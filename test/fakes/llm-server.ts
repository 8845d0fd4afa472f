/**
 * A fake LLM provider + Tavily server for tests: one HTTP server on 127.0.0.1 (random port) that
 * speaks the real wire protocols, so the real client libraries (@langchain/openai,
 * @langchain/anthropic, @langchain/google-genai, plain fetch for Tavily) run unmodified.
 *
 * Base URLs to configure (checked against the installed clients):
 *
 * | provider | config key           | value                | client calls                                   |
 * | -------- | -------------------- | -------------------- | ---------------------------------------------- |
 * | openai   | `OPENAI_BASE_URL`    | `fake.openaiBaseUrl` (= `${fake.url}/v1`) | `POST /v1/chat/completions` (ChatOpenAI's baseURL includes `/v1`) |
 * | claude   | `ANTHROPIC_BASE_URL` | `fake.anthropicBaseUrl` (= `fake.url`)    | `POST /v1/messages` (the SDK appends `/v1/messages`) |
 * | gemini   | `GEMINI_BASE_URL`    | `fake.geminiBaseUrl` (= `fake.url`)       | `POST /v1beta/models/{model}:streamGenerateContent?alt=sse` and `:generateContent` (the SDK appends `/{apiVersion}/models/...`, apiVersion `v1beta`) |
 * | tavily   | `TAVILY_BASE_URL`    | `fake.tavilyBaseUrl` (= `fake.url`)       | `POST /search` |
 *
 * Any non-empty API key is accepted (set `OPENAI_API_KEY`, `CLAUDE_API_KEY`, `GEMINI_API_KEY`,
 * `TAVILY_API_KEY` to anything); the key each request carried is recorded in `req.apiKey`.
 *
 * Scripting, per test:
 * ```ts
 * const fake = await startFakeLlmServer();
 * fake.respond((req) => ({ text: `hi ${req.messages.at(-1)?.content}` })); // default for every call
 * fake.enqueue({ status: 429 }, { text: "second try works" });            // one-shot replies, used first
 * fake.enqueue({ toolCalls: [{ name: "calculator", args: { expression: "2+2" } }] });
 * // ... run the code under test ...
 * expect(fake.requests).toHaveLength(2);
 * expect(fake.requests[0]!.messages.at(-1)).toMatchObject({ role: "user" });
 * await fake.close();
 * ```
 * Every request is normalized into {@link FakeRequest} (same shape for all three protocols), so a
 * test can assert on roles, names, tool pairing and the system prompt whatever the provider.
 * A streamed reply is split into word-sized deltas (or `chunks`), `chunkDelayMs` apart (with no delay,
 * the whole stream goes out in one write); a client that disconnects before the end is recorded as
 * `req.closedEarly = true` (cancel tests).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { anthropicError, completeAnthropic, normalizeAnthropic, streamAnthropic } from "./anthropic.ts";
import { header, type Json, plan, readBody, SseWriter, sleep } from "./common.ts";
import { completeGemini, geminiError, normalizeGemini, streamGemini } from "./gemini.ts";
import { completeOpenAI, normalizeOpenAI, openaiError, streamOpenAI } from "./openai.ts";
import { defaultSearch, handleSearch } from "./tavily.ts";
import type {
  FakeHandler,
  FakeLlmServer,
  FakeProvider,
  FakeReply,
  FakeRequest,
  FakeSearch,
  SearchHandler,
} from "./types.ts";

// every type of the fake, for the tests that use it
export type * from "./types.ts";

const defaultReply: FakeHandler = (r) => ({ text: `Hello from the fake ${r.provider} server.` });

/** Starts the fake on 127.0.0.1 and a free port. */
export async function startFakeLlmServer(): Promise<FakeLlmServer> {
  let queue: FakeReply[] = [];
  let handler: FakeHandler = defaultReply;
  let searchHandler: SearchHandler = defaultSearch;
  const requests: FakeRequest[] = [];
  const searches: FakeSearch[] = [];
  const waiters = new Set<() => void>();
  const sockets = new Set<import("node:net").Socket>();

  async function handleLlm(
    provider: FakeProvider,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Json,
    stream: boolean,
    geminiModel?: string,
  ) {
    const norm =
      provider === "openai"
        ? normalizeOpenAI(body)
        : provider === "anthropic"
          ? normalizeAnthropic(body)
          : normalizeGemini(body, geminiModel ?? "");
    const auth = header(req, "authorization");
    const apiKey =
      (auth?.startsWith("Bearer ") ? auth.slice(7) : undefined) ??
      header(req, "x-api-key") ??
      header(req, "x-goog-api-key");
    const record: FakeRequest = {
      provider,
      ...norm,
      stream,
      apiKey,
      path: req.url ?? "",
      body,
      closedEarly: false,
      n: requests.length + 1,
    };
    requests.push(record);
    for (const w of waiters) w();
    let finished = false;
    res.on("close", () => {
      if (!finished) record.closedEarly = true;
    });
    const reply = queue.shift() ?? (await handler(record));
    if (reply.delayMs) await sleep(reply.delayMs);
    if (res.destroyed) return;
    const status = reply.status ?? 200;
    if (status >= 400) {
      finished = true;
      res.writeHead(status, { "content-type": "application/json", ...reply.headers });
      const message = reply.error ?? `fake error ${status}`;
      const error =
        provider === "openai"
          ? openaiError(status, message)
          : provider === "anthropic"
            ? anthropicError(status, message)
            : geminiError(status, message);
      res.end(JSON.stringify(error));
      return;
    }
    const p = plan(reply, provider);
    const model = norm.model;
    if (!stream) {
      const out =
        provider === "openai"
          ? completeOpenAI(p, model)
          : provider === "anthropic"
            ? completeAnthropic(p, model)
            : completeGemini(p);
      finished = true;
      res.writeHead(status, { "content-type": "application/json", ...reply.headers });
      res.end(JSON.stringify(out));
      return;
    }
    res.writeHead(status, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
      ...reply.headers,
    });
    const chunkDelayMs = reply.chunkDelayMs ?? 0;
    // paced chunks go out one by one; an instant reply goes out in one write, as a server that has
    // the whole reply would send it (per-chunk writes would add CPU to every bench call)
    const socket = chunkDelayMs > 0 ? undefined : res.socket;
    if (socket) socket.cork();
    else res.flushHeaders();
    try {
      const sse = new SseWriter(res, chunkDelayMs);
      res.on("close", () => {
        sse.gone = true;
      });
      if (provider === "openai")
        await streamOpenAI(sse, p, model, body.stream_options?.include_usage === true);
      else if (provider === "anthropic") await streamAnthropic(sse, p, model);
      else await streamGemini(sse, p);
      if (!sse.gone) {
        finished = true;
        res.end();
      }
    } finally {
      // a writer that throws must not leave the keep-alive socket corked
      socket?.uncork();
    }
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      try {
        const url = new URL(req.url ?? "/", "http://x");
        if (req.method !== "POST") {
          res.writeHead(404).end();
          return;
        }
        const body = await readBody(req);
        if (url.pathname === "/v1/chat/completions")
          return await handleLlm("openai", req, res, body, body.stream === true);
        if (url.pathname === "/v1/messages")
          return await handleLlm("anthropic", req, res, body, body.stream === true);
        const g = /^\/v1(?:beta)?\/models\/([^:]+):(streamGenerateContent|generateContent)$/.exec(
          url.pathname,
        );
        if (g) return await handleLlm("gemini", req, res, body, g[2] === "streamGenerateContent", g[1]);
        if (url.pathname === "/search") return await handleSearch(req, res, body, searches, searchHandler);
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: `fake: no route ${url.pathname}` } }));
      } catch (err) {
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: `fake server error: ${String(err)}` } }));
      }
    })();
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    anthropicBaseUrl: url,
    geminiBaseUrl: url,
    tavilyBaseUrl: url,
    env: {
      OPENAI_API_KEY: "sk-test-openai",
      OPENAI_BASE_URL: `${url}/v1`,
      CLAUDE_API_KEY: "sk-test-claude",
      ANTHROPIC_BASE_URL: url,
      GEMINI_API_KEY: "test-gemini",
      GEMINI_BASE_URL: url,
      TAVILY_API_KEY: "tvly-test",
      TAVILY_BASE_URL: url,
    },
    requests,
    searches,
    respond(h) {
      handler = typeof h === "function" ? h : () => h;
    },
    enqueue(...replies) {
      queue.push(...replies);
    },
    onSearch(h) {
      searchHandler = h;
    },
    waitForRequests(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (requests.length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(requests);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`fake: ${requests.length} of ${count} requests after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    reset() {
      queue = [];
      requests.length = 0;
      searches.length = 0;
      handler = defaultReply;
      searchHandler = defaultSearch;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
