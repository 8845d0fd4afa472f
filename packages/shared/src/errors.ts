/** Base of the errors that carry a stable code; the gateway maps them to `{detail, code}`. */
export class SynapseError extends Error {
  override name = "SynapseError";
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export class NotFoundError extends SynapseError {
  override name = "NotFoundError";
  constructor(what = "resource") {
    super("not_found", `${what} not found`, 404);
  }
}

export class ConflictError extends SynapseError {
  override name = "ConflictError";
  constructor(code: string, message: string) {
    super(code, message, 409);
  }
}

export class ForbiddenError extends SynapseError {
  override name = "ForbiddenError";
  constructor(message = "only the group owner can do this") {
    super("forbidden", message, 403);
  }
}

export class UnauthorizedError extends SynapseError {
  override name = "UnauthorizedError";
  constructor(message = "not authenticated") {
    super("unauthorized", message, 401);
  }
}

export class ValidationError extends SynapseError {
  override name = "ValidationError";
  constructor(message: string, code = "validation_error") {
    super(code, message, 422);
  }
}

/** An LLM or tool failure; `retryable` says whether trying again can succeed (429, 5xx, timeout). */
export class ProviderError extends SynapseError {
  override name = "ProviderError";
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly providerStatus?: number,
  ) {
    super(retryable ? "provider_unavailable" : "provider_rejected", message, 502);
  }
}

export function isSynapseError(err: unknown): err is SynapseError {
  return err instanceof SynapseError;
}
