import { isSynapseError, isUnavailableError, ServiceUnavailableError, SynapseError } from "@synapse/shared";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** Too many requests in the current window; the handler adds `Retry-After`. */
export class RateLimitedError extends SynapseError {
  override name = "RateLimitedError";
  constructor(readonly retryAfterSeconds: number) {
    super("rate_limited", `too many requests; retry in ${retryAfterSeconds} s`, 429);
  }
}

/** Something the client asked for cannot be done to this resource (e.g. delete the Orchestrator). */
export class BadRequestError extends SynapseError {
  override name = "BadRequestError";
  constructor(code: string, message: string) {
    super(code, message, 400);
  }
}

interface Issue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

const PART: Record<string, string> = {
  body: "body",
  querystring: "query",
  params: "path",
  headers: "header",
};

/** `body.members.0.alias: Too big: ...`, for each issue (at most 5), so the detail names the field. */
export function validationDetail(context: string | undefined, issues: Issue[]): string {
  const part = PART[context ?? ""] ?? context ?? "request";
  const lines = issues.slice(0, 5).map((issue) => {
    const path = (issue.instancePath ?? "").split("/").filter(Boolean).join(".");
    const where = path ? `${part}.${path}` : part;
    const keys = issue.params?.keys;
    if (issue.keyword === "unrecognized_keys" && Array.isArray(keys))
      return keys.map((k) => `${where}.${String(k)}: unknown field`).join("; ");
    if (issue.keyword === "invalid_type" && issue.params?.input == null && path)
      return `${where}: field required`;
    if (issue.keyword === "invalid_type" && issue.params?.input == null && part === "body")
      return "body: a JSON object is required";
    return `${where}: ${issue.message ?? "invalid"}`;
  });
  return lines.join("; ");
}

/** Codes of Fastify's own client errors that we pass through with their status. */
const FASTIFY_CODES: Record<string, { status: number; code: string; detail?: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: "unsupported_media_type" },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: "bad_request" },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: "payload_too_large" },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 422, code: "validation_error", detail: "body: empty JSON body" },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 422, code: "validation_error", detail: "body: invalid JSON" },
  FST_ERR_CTP_EMPTY_TYPE: { status: 415, code: "unsupported_media_type" },
  FST_ERR_CTP_INVALID_TYPE: { status: 415, code: "unsupported_media_type" },
  FST_ERR_BAD_URL: { status: 400, code: "bad_request", detail: "malformed URL" },
  FST_ERR_ASYNC_CONSTRAINT: { status: 400, code: "bad_request" },
};

function send(reply: FastifyReply, status: number, detail: string, code: string): FastifyReply {
  if (status === 401) void reply.header("www-authenticate", "Bearer");
  return reply.code(status).type("application/json; charset=utf-8").send({ detail, code });
}

/**
 * The one place HTTP errors are made: known errors become `{detail, code}` with their status;
 * PostgreSQL or Redis being unreachable is a 503 with `Retry-After`; anything else is logged and
 * becomes a generic 500 naming the request id. No stack reaches a client.
 */
export function errorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (isUnavailableError(err)) {
    const unavailable = err instanceof ServiceUnavailableError ? err : new ServiceUnavailableError();
    req.log.warn({ err, reqId: req.id }, "a dependency is unavailable");
    void reply.header("retry-after", String(unavailable.retryAfterSeconds));
    return send(reply, 503, unavailable.message, unavailable.code);
  }
  if (err.validation) {
    return send(reply, 422, validationDetail(err.validationContext, err.validation), "validation_error");
  }
  if (isSynapseError(err)) {
    if (err instanceof RateLimitedError) void reply.header("retry-after", String(err.retryAfterSeconds));
    if (err.status >= 500) req.log.error({ err }, "request failed");
    return send(reply, err.status, err.message, err.code);
  }
  const known = err.code ? FASTIFY_CODES[err.code] : undefined;
  if (known) return send(reply, known.status, known.detail ?? err.message, known.code);
  // JSON.parse failures from the body parser carry statusCode 400 and no FST code
  if (err instanceof SyntaxError && err.statusCode === 400)
    return send(reply, 422, "body: invalid JSON", "validation_error");
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500 && err.code?.startsWith("FST_")) {
    return send(reply, err.statusCode, err.message, "bad_request");
  }
  req.log.error({ err, reqId: req.id }, "unexpected error");
  return send(reply, 500, `internal server error (request id ${req.id})`, "internal_error");
}

/** Registers the error handler and a `{detail, code}` 404 for unknown routes. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((_req, reply) => send(reply, 404, "no such route", "not_found"));
}
