import { type Config, normalizeProvider } from "@synapse/shared";
import { anthropicProvider } from "./anthropic.ts";
import { demoProvider } from "./demo.ts";
import { ProviderNotConfiguredError, UnknownProviderError } from "./errors.ts";
import { geminiProvider } from "./gemini.ts";
import { openaiProvider } from "./openai.ts";
import type { ProviderFactory } from "./types.ts";

/** Resolves a stored provider name to the factory of its chat models. */
export interface ProviderRegistry {
  /**
   * @throws ProviderNotConfiguredError for a known provider without its key
   * @throws UnknownProviderError for a name that is neither built in nor a configured endpoint
   */
  resolve(provider: string): ProviderFactory;
}

/**
 * The providers of this process: built-ins configured from `config`, OpenAI-compatible endpoints
 * from `OPENAI_ENDPOINTS`, and `overrides` (by normalized name) which win over both — tests use
 * them to plug in a stub.
 */
export function createProviderRegistry(
  config: Config,
  overrides: Record<string, ProviderFactory> = {},
): ProviderRegistry {
  const builtins: Record<string, () => ProviderFactory> = {
    openai: () => {
      if (!config.OPENAI_API_KEY && !config.OPENAI_BASE_URL)
        throw new ProviderNotConfiguredError("openai", "OPENAI_API_KEY");
      return openaiProvider({ apiKey: config.OPENAI_API_KEY, baseURL: config.OPENAI_BASE_URL });
    },
    claude: () => {
      if (!config.CLAUDE_API_KEY) throw new ProviderNotConfiguredError("claude", "CLAUDE_API_KEY");
      return anthropicProvider({ apiKey: config.CLAUDE_API_KEY, baseURL: config.ANTHROPIC_BASE_URL });
    },
    gemini: () => {
      if (!config.GEMINI_API_KEY) throw new ProviderNotConfiguredError("gemini", "GEMINI_API_KEY");
      return geminiProvider({ apiKey: config.GEMINI_API_KEY, baseUrl: config.GEMINI_BASE_URL });
    },
    demo: () => demoProvider({ wordDelayMs: config.DEMO_WORD_DELAY_MS }),
  };
  const cache = new Map<string, ProviderFactory>();
  return {
    resolve(name) {
      const override = overrides[name] ?? overrides[name.trim().toLowerCase()];
      if (override) return override;
      const key = normalizeProvider(config, name);
      if (key && overrides[key]) return overrides[key];
      if (!key) throw new UnknownProviderError(name);
      const hit = cache.get(key);
      if (hit) return hit;
      const endpoint = config.OPENAI_ENDPOINTS[key];
      const factory =
        builtins[key]?.() ??
        // a named endpoint: an OpenAI-compatible server that needs no key of its own
        openaiProvider({ baseURL: endpoint });
      cache.set(key, factory);
      return factory;
    },
  };
}
