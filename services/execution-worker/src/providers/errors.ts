import { ProviderError } from "@synapse/shared";

/** A known provider whose key (or base URL) is not set: fails at once, never retried. */
export class ProviderNotConfiguredError extends ProviderError {
  override name = "ProviderNotConfiguredError";
  override readonly code: string = "provider_not_configured";
  constructor(provider: string, setting: string) {
    super(`provider ${provider} is not configured: set ${setting}`, false);
  }
}

/** A provider name that is neither built in nor a configured endpoint (e.g. an endpoint removed from config). */
export class UnknownProviderError extends ProviderError {
  override name = "UnknownProviderError";
  override readonly code: string = "unknown_provider";
  constructor(provider: string) {
    super(`unknown provider ${provider}`, false);
  }
}

/** One attempt took longer than LLM_TIMEOUT_MS. Retryable. */
export class ProviderTimeoutError extends ProviderError {
  override name = "ProviderTimeoutError";
  override readonly code: string = "provider_timeout";
  constructor(provider: string, ms: number) {
    super(`${provider} did not answer within ${ms} ms`, true);
  }
}
