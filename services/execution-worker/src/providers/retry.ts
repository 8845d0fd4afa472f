import { cutGraphemes, ProviderError } from "@synapse/shared";

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

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);
/** Errors the client libraries raise when the connection (not the provider) failed. */
const NETWORK_NAMES = new Set([
  "APIConnectionError",
  "APIConnectionTimeoutError",
  "TimeoutError",
  "FetchError",
]);

type Bag = Record<string, unknown>;
const asBag = (x: unknown): Bag | undefined => (typeof x === "object" && x !== null ? (x as Bag) : undefined);

function statusOf(err: Bag): number | undefined {
  for (const v of [err.status, err.statusCode, asBag(err.response)?.status])
    if (typeof v === "number" && v >= 100 && v < 600) return v;
  // Gemini's client puts the status only in the message: "[429 Too Many Requests]"
  const m = typeof err.message === "string" ? /\[(\d{3})(?: [^\]]*)?\]/.exec(err.message) : null;
  return m ? Number(m[1]) : undefined;
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

function isNetworkError(err: Bag, depth = 0): boolean {
  if (depth > 3) return false;
  if (typeof err.code === "string" && NETWORK_CODES.has(err.code)) return true;
  if (typeof err.name === "string" && NETWORK_NAMES.has(err.name)) return true;
  const msg = typeof err.message === "string" ? err.message : "";
  if (
    /fetch failed|socket hang up|network|Error reading from the stream|terminated|premature close/i.test(msg)
  )
    return true;
  const cause = asBag(err.cause);
  return cause ? isNetworkError(cause, depth + 1) : false;
}

function shortMessage(err: Bag): string {
  const raw = typeof err.message === "string" ? err.message : String(err);
  // LangChain appends a troubleshooting URL paragraph; keep the first line, bounded
  return cutGraphemes(raw.split("\n")[0] ?? "", 300);
}

/**
 * Decides whether a failed call can succeed if tried again: 408/409/429/5xx, timeouts and
 * connection failures can; other 4xx (400, 401, 403, 404, 422) and unknown errors cannot.
 * A 429 that says the quota is exhausted cannot either.
 */
export function classifyProviderError(err: unknown, provider: string): Classified {
  if (err instanceof ProviderError)
    return { retryable: err.retryable, status: err.providerStatus, detail: err.message };
  const bag = asBag(err) ?? { message: String(err) };
  const status = statusOf(bag);
  const msg = shortMessage(bag);
  if (status !== undefined) {
    const quota =
      status === 429 &&
      (bag.code === "insufficient_quota" || asBag(bag.error)?.code === "insufficient_quota");
    const retryable = !quota && (status === 408 || status === 409 || status === 429 || status >= 500);
    return {
      retryable,
      status,
      retryAfterMs: parseRetryAfter(headerOf(bag, "retry-after")),
      detail: `${provider} returned ${status}: ${msg}`,
    };
  }
  if (isNetworkError(bag)) return { retryable: true, detail: `${provider} unreachable: ${msg}` };
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
