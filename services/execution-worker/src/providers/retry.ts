import {
  APIError as AnthropicAPIError,
  APIConnectionError as AnthropicConnectionError,
} from "@anthropic-ai/sdk";
import { GoogleGenerativeAIError as GeminiError } from "@google/generative-ai";
import { cutGraphemes, ProviderError } from "@synapse/shared";
import { APIConnectionError as OpenAIConnectionError } from "openai";

/** How a failed provider call is treated. */
export interface Classified {
  retryable: boolean;
  /** HTTP status, when the provider answered */
  status?: number;
  /** the provider's Retry-After, in ms */
  retryAfterMs?: number;
  /** one line for the `llm_error` detail (never includes keys or prompts) */
  detail: string;
}

/** System and undici error codes of a connection that failed or broke (not an answer from the provider). */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "ERR_STREAM_PREMATURE_CLOSE",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);
/**
 * Error names that mean a timeout: LangChain turns the OpenAI SDK's timeout into an Error named
 * `TimeoutError`, as does `AbortSignal.timeout`; node-fetch names its transport failures `FetchError`.
 */
const NETWORK_NAMES = new Set(["TimeoutError", "FetchError"]);

type Bag = Record<string, unknown>;
const asBag = (x: unknown): Bag | undefined => (typeof x === "object" && x !== null ? (x as Bag) : undefined);
const httpStatus = (v: unknown): number | undefined =>
  typeof v === "number" && v >= 100 && v < 600 ? v : undefined;

/**
 * The HTTP status the provider answered with: the SDKs' own error classes carry it as `status`
 * (OpenAI's and Anthropic's `APIError`, Gemini's `GoogleGenerativeAIFetchError`); other clients
 * as `status`, `statusCode` or `response.status`.
 */
function statusOf(err: unknown): number | undefined {
  const bag = asBag(err);
  if (!bag) return undefined;
  return httpStatus(bag.status) ?? httpStatus(bag.statusCode) ?? httpStatus(asBag(bag.response)?.status);
}

function headerOf(err: Bag, name: string): string | undefined {
  for (const h of [err.headers, asBag(err.response)?.headers]) {
    const hb = asBag(h);
    if (!hb) continue;
    if (typeof hb.get === "function") {
      const v = (hb.get as (n: string) => unknown).call(hb, name);
      if (typeof v === "string") return v;
    } else if (typeof hb[name] === "string") return hb[name] as string;
  }
  return undefined;
}

/** Parses a Retry-After header (seconds or an HTTP date) into ms. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const secs = Number(value.trim());
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Whether the connection, not the provider, failed: the SDKs' connection error classes, a timeout,
 * or a system/undici error code anywhere in the cause chain. Gemini's SDK has no class of its own
 * for this: it raises a failed fetch or a broken stream as its base `GoogleGenerativeAIError`, and
 * every answer or request problem as a subclass of it.
 */
function isNetworkError(err: unknown, depth = 0): boolean {
  if (depth > 3) return false;
  if (err instanceof OpenAIConnectionError || err instanceof AnthropicConnectionError) return true;
  if (err instanceof GeminiError && err.constructor === GeminiError) return true;
  const bag = asBag(err);
  if (!bag) return false;
  if (typeof bag.code === "string" && NETWORK_CODES.has(bag.code)) return true;
  if (typeof bag.name === "string" && NETWORK_NAMES.has(bag.name)) return true;
  // a connection to every address of a host failed (Node's happy eyeballs)
  if (err instanceof AggregateError && err.errors.some((e) => isNetworkError(e, depth + 1))) return true;
  return bag.cause !== undefined && isNetworkError(bag.cause, depth + 1);
}

/**
 * Anthropic's error events in the middle of a stream carry no HTTP status, only the error's type:
 * these are the ones a later try can get past (its 529, 500 and 429).
 */
const ANTHROPIC_RETRYABLE_TYPES = new Set(["overloaded_error", "api_error", "rate_limit_error"]);

/** A 429 that says the account's quota is used up (OpenAI's `insufficient_quota`): waiting will not help. */
function isQuotaExhausted(err: Bag): boolean {
  return err.code === "insufficient_quota" || asBag(err.error)?.code === "insufficient_quota";
}

function shortMessage(err: Bag): string {
  const raw = typeof err.message === "string" ? err.message : String(err);
  // LangChain appends a troubleshooting URL paragraph; keep the first line, bounded
  return cutGraphemes(raw.split("\n")[0] ?? "", 300);
}

/**
 * Decides whether a failed call can succeed if tried again, from the HTTP status and the error's
 * class: 408/409/429/5xx, timeouts and connection failures can; other 4xx (400, 401, 403, 404, 422)
 * and unknown errors cannot. A 429 that says the quota is exhausted cannot either.
 */
export function classifyProviderError(err: unknown, provider: string): Classified {
  if (err instanceof ProviderError)
    return { retryable: err.retryable, status: err.providerStatus, detail: err.message };
  const bag = asBag(err) ?? { message: String(err) };
  const status = statusOf(err);
  const msg = shortMessage(bag);
  if (status !== undefined) {
    const retryable =
      !(status === 429 && isQuotaExhausted(bag)) &&
      (status === 408 || status === 409 || status === 429 || status >= 500);
    return {
      retryable,
      status,
      retryAfterMs: parseRetryAfter(headerOf(bag, "retry-after")),
      detail: `${provider} returned ${status}: ${msg}`,
    };
  }
  if (err instanceof AnthropicAPIError && ANTHROPIC_RETRYABLE_TYPES.has(String(err.type)))
    return { retryable: true, detail: `${provider} failed mid-stream (${err.type}): ${msg}` };
  if (isNetworkError(err)) return { retryable: true, detail: `${provider} unreachable: ${msg}` };
  return { retryable: false, detail: `${provider} call failed: ${msg}` };
}

/** Options of {@link backoffMs}. */
export interface BackoffOptions {
  /** @defaultValue 500 */
  baseMs?: number;
  /** @defaultValue 8000 */
  maxMs?: number;
  /** a Retry-After beyond this is capped to it @defaultValue 30000 */
  maxRetryAfterMs?: number;
}

/**
 * Delay before retry number `retry` (1-based): the provider's Retry-After when it gave one (capped),
 * else exponential backoff with full jitter between half and all of `base * 2^(retry-1)`.
 */
export function backoffMs(
  retry: number,
  retryAfterMs: number | undefined,
  opts: BackoffOptions = {},
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, opts.maxRetryAfterMs ?? 30_000);
  const cap = Math.min(opts.maxMs ?? 8000, (opts.baseMs ?? 500) * 2 ** (retry - 1));
  return Math.round(cap / 2 + (Math.random() * cap) / 2);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
