import { MaxRetriesPerRequestError } from "ioredis/built/errors/index.js";
import { SynapseError } from "./errors.ts";

/** PostgreSQL or Redis cannot be used right now; the same request can succeed once it is back. */
export class ServiceUnavailableError extends SynapseError {
  override name = "ServiceUnavailableError";
  /** What a client is told to wait before trying again (the gateway's `Retry-After`). */
  readonly retryAfterSeconds = 5;
  constructor(options?: { cause?: unknown }) {
    super(
      "service_unavailable",
      "service unavailable: a database it needs does not answer; retry shortly",
      503,
    );
    if (options && "cause" in options) this.cause = options.cause;
  }
}

/** Node's codes for a connection that could not be made or was lost. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** SQLSTATEs of a server going away or not yet accepting connections (class 08 is checked apart). */
const PG_UNAVAILABLE = new Set([
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, recovering)
  "53300", // too_many_connections
]);

/** Errors a pg client emitted as its own `error` event: its connection is gone. */
const lostConnections = new WeakSet<object>();

/**
 * Records `err`, emitted by a pg client as its `error` event, as the loss of its connection. pg
 * gives the same error object to the queries it cuts, without a code ("terminated unexpectedly").
 */
export function markConnectionLost(err: unknown): void {
  if (typeof err === "object" && err !== null) lostConnections.add(err);
}

function codeOf(err: object): string | undefined {
  return "code" in err && typeof err.code === "string" ? err.code : undefined;
}

/**
 * Whether `err` says PostgreSQL or Redis is unreachable (by error class and code, never by message):
 * a network error code, a SQLSTATE of class 08 or 57P01–57P03, a failed pool checkout, a pg
 * connection lost under a query (`markConnectionLost`), ioredis giving up on a command while
 * reconnecting. Causes and the parts of an AggregateError count too.
 */
export function isUnavailableError(err: unknown, depth = 0): boolean {
  if (typeof err !== "object" || err === null || depth > 4) return false;
  if (err instanceof ServiceUnavailableError || err instanceof MaxRetriesPerRequestError) return true;
  if (lostConnections.has(err)) return true;
  const code = codeOf(err);
  if (code && (NETWORK_CODES.has(code) || PG_UNAVAILABLE.has(code) || /^08[0-9A-Z]{3}$/.test(code)))
    return true;
  if (err instanceof AggregateError && err.errors.some((e) => isUnavailableError(e, depth + 1))) return true;
  return "cause" in err && isUnavailableError(err.cause, depth + 1);
}
