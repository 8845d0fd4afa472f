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
 * A streamed reply is split into word-sized deltas (or `chunks`), `chunkDelayMs` apart; a client
 * that disconnects before the end is recorded as `req.closedEarly = true` (cancel tests).
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export type FakeProvider = "openai" | "anthropic" | "gemini";

/** One chat message, the same shape whatever the protocol it arrived in. */
export interface FakeMessage {
  role: "system" | "user" | "assistant" | "tool";
  /** all text parts joined */
  content: string;
  /** OpenAI `name` of a message (other protocols have none) */
  name?: string;
  /** on assistant messages */
  tool_calls?: { id: string; name: string; args: Record<string, unknown> }[];
  /** on tool messages: the call it answers (Gemini: the function name when no id was sent) */
  tool_call_id?: string;
  /** on tool messages (Anthropic `is_error`, Gemini `response.error`) */
  is_error?: boolean;
}

/** A recorded LLM request. */
export interface FakeRequest {
  provider: FakeProvider;
  model: string;
  stream: boolean;
  /** the conversation, without the leading system prompt (a system message later in an OpenAI chat stays here) */
  messages: FakeMessage[];
  /** the system prompt (OpenAI: the leading system/developer message; Anthropic `system`; Gemini `systemInstruction`) */
  system?: string;
  /** names of the tools offered */
  tools: string[];
  /** the API key the client sent (Bearer / x-api-key / x-goog-api-key) */
  apiKey?: string;
  path: string;
  body: Record<string, unknown>;
  /** set when the client went away before the reply was complete */
  closedEarly: boolean;
  /** 1-based index of this request among all LLM requests */
  n: number;
}

/** What the fake answers. All fields optional: `{}` answers with an empty text. */
export interface FakeReply {
  /** reply text (streamed word by word unless `chunks` is given) */
  text?: string;
  /** explicit stream deltas; their concatenation replaces `text` */
  chunks?: string[];
  toolCalls?: { id?: string; name: string; args: Record<string, unknown> }[];
  /** HTTP status; >= 400 sends the provider's error body instead of a reply */
  status?: number;
  /** error message in the error body */
  error?: string;
  /** extra response headers (e.g. `{"retry-after": "0"}`) */
  headers?: Record<string, string>;
  /** wait before answering at all */
  delayMs?: number;
  /** wait between streamed chunks */
  chunkDelayMs?: number;
  /** reported token usage @defaultValue {input_tokens: 11, output_tokens: <number of chunks>} */
  usage?: { input_tokens: number; output_tokens: number };
}

export type FakeHandler = (req: FakeRequest) => FakeReply | Promise<FakeReply>;

/** A recorded Tavily search. */
export interface FakeSearch {
  query: string;
  max_results?: number;
  apiKey?: string;
  body: Record<string, unknown>;
}

export interface FakeSearchReply {
  status?: number;
  results?: { title: string; url: string; content: string; score?: number }[];
  answer?: string;
  delayMs?: number;
}

export interface FakeLlmServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `${url}/v1`: the `OPENAI_BASE_URL` (or a named endpoint in `OPENAI_ENDPOINTS`) */
  openaiBaseUrl: string;
  /** `url`: the `ANTHROPIC_BASE_URL` */
  anthropicBaseUrl: string;
  /** `url`: the `GEMINI_BASE_URL` */
  geminiBaseUrl: string;
  /** `url`: the `TAVILY_BASE_URL` */
  tavilyBaseUrl: string;
  /** every LLM request, in arrival order */
  requests: FakeRequest[];
  /** every Tavily search, in arrival order */
  searches: FakeSearch[];
  /** The default reply (a function of the request, or a fixed reply) once the queue is empty. */
  respond(handler: FakeHandler | FakeReply): void;
  /** One-shot replies, used in order before the default. */
  enqueue(...replies: FakeReply[]): void;
  /** How `/search` answers (default: two results derived from the query). */
  onSearch(handler: (s: FakeSearch) => FakeSearchReply | Promise<FakeSearchReply>): void;
  /** Resolves when `count` LLM requests have arrived (rejects after `timeoutMs`). */
  waitForRequests(count: number, timeoutMs?: number): Promise<FakeRequest[]>;
  /** Forgets recorded requests, queued replies and handlers. */
  reset(): void;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content))
    return content
      .map((p) => (p && typeof p === "object" && "text" in p && typeof p.text === "string" ? p.text : ""))
      .join("");
  return "";
}

function parseArgs(s: unknown): Record<string, unknown> {
  if (typeof s !== "string") return (s as Record<string, unknown>) ?? {};
  try {
    return JSON.parse(s) as Record<string, unknown>;
  } catch {
    return { _unparsed: s };
  }
}

// ---------------------------------------------------------------- normalization

// biome-ignore lint/suspicious/noExplicitAny: free-form wire payloads
type Json = Record<string, any>;

function normalizeOpenAI(body: Json): Pick<FakeRequest, "messages" | "system" | "tools" | "model"> {
  const messages: FakeMessage[] = [];
  let system: string | undefined;
  (body.messages as Json[]).forEach((m, i) => {
    const role = m.role === "developer" ? "system" : m.role;
    if (role === "system" && i === 0) {
      system = textOf(m.content);
      return;
    }
    const out: FakeMessage = { role, content: textOf(m.content) };
    if (m.name) out.name = m.name;
    if (m.tool_calls?.length)
      out.tool_calls = (m.tool_calls as Json[]).map((tc) => ({
        id: tc.id,
        name: tc.function.name,
        args: parseArgs(tc.function.arguments),
      }));
    if (m.tool_call_id) out.tool_call_id = m.tool_call_id;
    messages.push(out);
  });
  const tools = ((body.tools as Json[] | undefined) ?? []).map((t) => t.function?.name ?? t.name);
  return { model: body.model, messages, system, tools };
}

function normalizeAnthropic(body: Json): Pick<FakeRequest, "messages" | "system" | "tools" | "model"> {
  const messages: FakeMessage[] = [];
  for (const m of body.messages as Json[]) {
    if (typeof m.content === "string") {
      messages.push({ role: m.role, content: m.content });
      continue;
    }
    const blocks = m.content as Json[];
    if (m.role === "assistant") {
      const calls = blocks
        .filter((b) => b.type === "tool_use")
        .map((b) => ({ id: b.id, name: b.name, args: b.input ?? {} }));
      messages.push({
        role: "assistant",
        content: textOf(blocks.filter((b) => b.type === "text")),
        ...(calls.length ? { tool_calls: calls } : {}),
      });
      continue;
    }
    for (const b of blocks.filter((x) => x.type === "tool_result"))
      messages.push({
        role: "tool",
        content: textOf(b.content),
        tool_call_id: b.tool_use_id,
        ...(b.is_error ? { is_error: true } : {}),
      });
    const text = blocks.filter((b) => b.type === "text");
    if (text.length) messages.push({ role: "user", content: textOf(text) });
  }
  const system = body.system === undefined ? undefined : textOf(body.system);
  const tools = ((body.tools as Json[] | undefined) ?? []).map((t) => t.name);
  return { model: body.model, messages, system, tools };
}

function normalizeGemini(
  body: Json,
  model: string,
): Pick<FakeRequest, "messages" | "system" | "tools" | "model"> {
  const messages: FakeMessage[] = [];
  for (const c of body.contents as Json[]) {
    const parts = (c.parts ?? []) as Json[];
    if (c.role === "model") {
      const calls = parts
        .filter((p) => p.functionCall)
        .map((p) => ({
          id: p.functionCall.id ?? p.functionCall.name,
          name: p.functionCall.name,
          args: p.functionCall.args ?? {},
        }));
      messages.push({
        role: "assistant",
        content: textOf(parts.filter((p) => typeof p.text === "string" && !p.thought)),
        ...(calls.length ? { tool_calls: calls } : {}),
      });
      continue;
    }
    for (const p of parts.filter((x) => x.functionResponse)) {
      const r = p.functionResponse.response ?? {};
      const value = r.error !== undefined ? (r.error.details ?? r.error) : (r.result ?? r);
      messages.push({
        role: "tool",
        content: typeof value === "string" ? value : JSON.stringify(value),
        tool_call_id: p.functionResponse.id ?? p.functionResponse.name,
        ...(r.error !== undefined ? { is_error: true } : {}),
      });
    }
    const text = parts.filter((p) => typeof p.text === "string");
    if (text.length) messages.push({ role: "user", content: textOf(text) });
  }
  const si = body.systemInstruction;
  const system = si === undefined ? undefined : typeof si === "string" ? si : textOf(si.parts ?? []);
  const tools = ((body.tools as Json[] | undefined) ?? []).flatMap((t) =>
    ((t.functionDeclarations as Json[] | undefined) ?? []).map((f) => f.name as string),
  );
  return { model, messages, system, tools };
}

// ---------------------------------------------------------------- replies

interface Planned {
  deltas: string[];
  calls: { id: string; name: string; args: Record<string, unknown> }[];
  usage: { input_tokens: number; output_tokens: number };
}

function plan(reply: FakeReply, provider: FakeProvider): Planned {
  const deltas = reply.chunks ?? (reply.text ? (reply.text.match(/\S+\s*|\s+/g) ?? []) : []);
  const prefix = provider === "anthropic" ? "toolu_" : "call_";
  const calls = (reply.toolCalls ?? []).map((c) => ({
    id: c.id ?? `${prefix}${randomUUID().replaceAll("-", "").slice(0, 20)}`,
    name: c.name,
    args: c.args,
  }));
  return {
    deltas,
    calls,
    usage: reply.usage ?? { input_tokens: 11, output_tokens: Math.max(1, deltas.length + calls.length) },
  };
}

function errorBody(provider: FakeProvider, status: number, message: string): Json {
  switch (provider) {
    case "openai":
      return { error: { message, type: status === 429 ? "rate_limit_exceeded" : "api_error", code: null } };
    case "anthropic":
      return {
        type: "error",
        error: {
          type: status === 429 ? "rate_limit_error" : status === 401 ? "authentication_error" : "api_error",
          message,
        },
      };
    case "gemini":
      return { error: { code: status, message, status: status === 429 ? "RESOURCE_EXHAUSTED" : "INTERNAL" } };
  }
}

/** Writes SSE frames until done or the client leaves; returns false when the client left. */
class SseWriter {
  constructor(
    private res: http.ServerResponse,
    private delayMs: number,
  ) {}
  gone = false;
  async write(data: string, opts: { event?: string; pause?: boolean } = {}): Promise<boolean> {
    if (this.gone || this.res.destroyed) return false;
    if (opts.pause && this.delayMs > 0) await sleep(this.delayMs);
    if (this.gone || this.res.destroyed) return false;
    this.res.write(`${opts.event ? `event: ${opts.event}\n` : ""}data: ${data}\n\n`);
    return true;
  }
}

async function streamOpenAI(sse: SseWriter, p: Planned, model: string, includeUsage: boolean) {
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: Json, finish: string | null = null) =>
    JSON.stringify({
      id,
      object: "chat.completion.chunk",
      created,
      model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    });
  await sse.write(chunk({ role: "assistant", content: "" }));
  for (const d of p.deltas) if (!(await sse.write(chunk({ content: d }), { pause: true }))) return;
  for (const [index, c] of p.calls.entries()) {
    const args = JSON.stringify(c.args);
    const half = Math.ceil(args.length / 2);
    await sse.write(
      chunk({
        tool_calls: [{ index, id: c.id, type: "function", function: { name: c.name, arguments: "" } }],
      }),
      { pause: true },
    );
    for (const piece of [args.slice(0, half), args.slice(half)])
      if (
        !(await sse.write(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }), {
          pause: true,
        }))
      )
        return;
  }
  await sse.write(chunk({}, p.calls.length ? "tool_calls" : "stop"));
  if (includeUsage)
    await sse.write(
      JSON.stringify({
        id,
        object: "chat.completion.chunk",
        created,
        model,
        choices: [],
        usage: {
          prompt_tokens: p.usage.input_tokens,
          completion_tokens: p.usage.output_tokens,
          total_tokens: p.usage.input_tokens + p.usage.output_tokens,
        },
      }),
    );
  await sse.write("[DONE]");
}

function completeOpenAI(p: Planned, model: string): Json {
  return {
    id: `chatcmpl-${randomUUID()}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: p.deltas.join("") || (p.calls.length ? null : ""),
          ...(p.calls.length
            ? {
                tool_calls: p.calls.map((c) => ({
                  id: c.id,
                  type: "function",
                  function: { name: c.name, arguments: JSON.stringify(c.args) },
                })),
              }
            : {}),
        },
        finish_reason: p.calls.length ? "tool_calls" : "stop",
      },
    ],
    usage: {
      prompt_tokens: p.usage.input_tokens,
      completion_tokens: p.usage.output_tokens,
      total_tokens: p.usage.input_tokens + p.usage.output_tokens,
    },
  };
}

async function streamAnthropic(sse: SseWriter, p: Planned, model: string) {
  const ev = (event: string, data: Json, pause = false) => sse.write(JSON.stringify(data), { event, pause });
  await ev("message_start", {
    type: "message_start",
    message: {
      id: `msg_${randomUUID().replaceAll("-", "")}`,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: p.usage.input_tokens, output_tokens: 0 },
    },
  });
  let index = 0;
  if (p.deltas.length) {
    await ev("content_block_start", {
      type: "content_block_start",
      index,
      content_block: { type: "text", text: "" },
    });
    for (const d of p.deltas)
      if (
        !(await ev(
          "content_block_delta",
          { type: "content_block_delta", index, delta: { type: "text_delta", text: d } },
          true,
        ))
      )
        return;
    await ev("content_block_stop", { type: "content_block_stop", index });
    index++;
  }
  for (const c of p.calls) {
    await ev("content_block_start", {
      type: "content_block_start",
      index,
      content_block: { type: "tool_use", id: c.id, name: c.name, input: {} },
    });
    const args = JSON.stringify(c.args);
    const half = Math.ceil(args.length / 2);
    for (const piece of [args.slice(0, half), args.slice(half)])
      if (
        !(await ev(
          "content_block_delta",
          { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: piece } },
          true,
        ))
      )
        return;
    await ev("content_block_stop", { type: "content_block_stop", index });
    index++;
  }
  await ev("message_delta", {
    type: "message_delta",
    delta: { stop_reason: p.calls.length ? "tool_use" : "end_turn", stop_sequence: null },
    usage: { output_tokens: p.usage.output_tokens },
  });
  await ev("message_stop", { type: "message_stop" });
}

function completeAnthropic(p: Planned, model: string): Json {
  const text = p.deltas.join("");
  return {
    id: `msg_${randomUUID().replaceAll("-", "")}`,
    type: "message",
    role: "assistant",
    model,
    content: [
      ...(text ? [{ type: "text", text }] : []),
      ...p.calls.map((c) => ({ type: "tool_use", id: c.id, name: c.name, input: c.args })),
    ],
    stop_reason: p.calls.length ? "tool_use" : "end_turn",
    stop_sequence: null,
    usage: p.usage,
  };
}

function geminiChunk(parts: Json[], finish: string | null, usage?: Planned["usage"]): Json {
  return {
    candidates: [
      { content: { role: "model", parts }, index: 0, ...(finish ? { finishReason: finish } : {}) },
    ],
    ...(usage
      ? {
          usageMetadata: {
            promptTokenCount: usage.input_tokens,
            candidatesTokenCount: usage.output_tokens,
            totalTokenCount: usage.input_tokens + usage.output_tokens,
          },
        }
      : {}),
    modelVersion: "fake",
  };
}

async function streamGemini(sse: SseWriter, p: Planned) {
  for (const d of p.deltas)
    if (!(await sse.write(JSON.stringify(geminiChunk([{ text: d }], null)), { pause: true }))) return;
  const callParts = p.calls.map((c) => ({ functionCall: { name: c.name, args: c.args } }));
  await sse.write(
    JSON.stringify(geminiChunk(callParts.length ? callParts : [{ text: "" }], "STOP", p.usage)),
    {
      pause: true,
    },
  );
}

function completeGemini(p: Planned): Json {
  const text = p.deltas.join("");
  return geminiChunk(
    [...(text ? [{ text }] : []), ...p.calls.map((c) => ({ functionCall: { name: c.name, args: c.args } }))],
    "STOP",
    p.usage,
  );
}

// ---------------------------------------------------------------- server

async function readBody(req: http.IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks).toString("utf8");
  return raw ? (JSON.parse(raw) as Json) : {};
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Starts the fake on 127.0.0.1 and a free port. */
export async function startFakeLlmServer(): Promise<FakeLlmServer> {
  let queue: FakeReply[] = [];
  let handler: FakeHandler = (r) => ({ text: `Hello from the fake ${r.provider} server.` });
  let searchHandler = (s: FakeSearch): FakeSearchReply | Promise<FakeSearchReply> => ({
    results: [
      {
        title: `First result for ${s.query}`,
        url: "https://example.com/1",
        content: "First snippet.",
        score: 0.9,
      },
      {
        title: `Second result for ${s.query}`,
        url: "https://example.com/2",
        content: "Second snippet.",
        score: 0.8,
      },
    ].slice(0, s.max_results ?? 5),
  });
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
      res.end(JSON.stringify(errorBody(provider, status, reply.error ?? `fake error ${status}`)));
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
    res.flushHeaders();
    const sse = new SseWriter(res, reply.chunkDelayMs ?? 0);
    res.on("close", () => {
      sse.gone = true;
    });
    if (provider === "openai") await streamOpenAI(sse, p, model, body.stream_options?.include_usage === true);
    else if (provider === "anthropic") await streamAnthropic(sse, p, model);
    else await streamGemini(sse, p);
    if (!sse.gone) {
      finished = true;
      res.end();
    }
  }

  async function handleSearch(req: http.IncomingMessage, res: http.ServerResponse, body: Json) {
    const auth = header(req, "authorization");
    const s: FakeSearch = {
      query: String(body.query ?? ""),
      max_results: typeof body.max_results === "number" ? body.max_results : undefined,
      apiKey: auth?.startsWith("Bearer ") ? auth.slice(7) : (body.api_key as string | undefined),
      body,
    };
    searches.push(s);
    const r = await searchHandler(s);
    if (r.delayMs) await sleep(r.delayMs);
    if (res.destroyed) return;
    const status = r.status ?? 200;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(
      JSON.stringify(
        status >= 400
          ? { detail: { error: `fake tavily error ${status}` } }
          : { query: s.query, answer: r.answer ?? null, results: r.results ?? [], response_time: 0.01 },
      ),
    );
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
        if (url.pathname === "/search") return await handleSearch(req, res, body);
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
      handler = (r) => ({ text: `Hello from the fake ${r.provider} server.` });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
