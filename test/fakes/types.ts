/** The public types of the fake LLM server (see `llm-server.ts`). */
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

/** Answers a Tavily search. */
export type SearchHandler = (s: FakeSearch) => FakeSearchReply | Promise<FakeSearchReply>;

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
  /**
   * Settings that point every provider and Tavily at this server, with test keys: spread them
   * into `testConfig({...})` or a child process's environment.
   */
  env: Record<string, string>;
  /** every LLM request, in arrival order */
  requests: FakeRequest[];
  /** every Tavily search, in arrival order */
  searches: FakeSearch[];
  /** The default reply (a function of the request, or a fixed reply) once the queue is empty. */
  respond(handler: FakeHandler | FakeReply): void;
  /** One-shot replies, used in order before the default. */
  enqueue(...replies: FakeReply[]): void;
  /** How `/search` answers (default: two results derived from the query). */
  onSearch(handler: SearchHandler): void;
  /** Resolves when `count` LLM requests have arrived (rejects after `timeoutMs`). */
  waitForRequests(count: number, timeoutMs?: number): Promise<FakeRequest[]>;
  /** Forgets recorded requests, queued replies and handlers. */
  reset(): void;
  close(): Promise<void>;
}
