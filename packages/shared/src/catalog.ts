import { z } from "zod";
import type { Config } from "./config.ts";

/**
 * What agents may name: providers and tools. The gateway validates against it and lists it under
 * /system; the execution worker implements it. Agents refer to providers by name only, so a user
 * can never make the server call a URL of their choosing.
 */

export const BUILTIN_PROVIDERS = ["openai", "claude", "gemini", "demo"] as const;
export type BuiltinProvider = (typeof BUILTIN_PROVIDERS)[number];

const PROVIDER_ALIASES: Record<string, BuiltinProvider> = { anthropic: "claude" };

/** Model suggestions per provider (any model name is accepted for a known provider). */
export const MODEL_SUGGESTIONS: Record<BuiltinProvider, { id: string; name: string }[]> = {
  openai: [
    { id: "gpt-4o-mini", name: "GPT-4o mini" },
    { id: "gpt-4o", name: "GPT-4o" },
    { id: "gpt-4.1", name: "GPT-4.1" },
  ],
  claude: [
    { id: "claude-sonnet-4-5", name: "Claude Sonnet 4.5" },
    { id: "claude-haiku-4-5", name: "Claude Haiku 4.5" },
  ],
  gemini: [
    { id: "gemini-2.5-flash", name: "Gemini 2.5 Flash" },
    { id: "gemini-2.5-pro", name: "Gemini 2.5 Pro" },
  ],
  demo: [{ id: "demo", name: "Demo (offline, rule-based; not a real LLM)" }],
};

/**
 * The provider name as stored: aliases resolved (`anthropic` → `claude`), case folded.
 * Returns undefined for a name that is neither built in nor a configured named endpoint.
 */
export function normalizeProvider(
  config: Pick<Config, "OPENAI_ENDPOINTS">,
  name: string,
): string | undefined {
  const n = name.trim().toLowerCase();
  const builtin = PROVIDER_ALIASES[n] ?? n;
  if ((BUILTIN_PROVIDERS as readonly string[]).includes(builtin)) return builtin;
  if (Object.hasOwn(config.OPENAI_ENDPOINTS, n)) return n;
  return undefined;
}

/** Providers that can be called now: keys present (openai also with only a base URL), endpoints, demo. */
export function configuredProviders(config: Config): string[] {
  const out: string[] = [];
  if (config.OPENAI_API_KEY || config.OPENAI_BASE_URL) out.push("openai");
  if (config.CLAUDE_API_KEY) out.push("claude");
  if (config.GEMINI_API_KEY) out.push("gemini");
  out.push(...Object.keys(config.OPENAI_ENDPOINTS));
  out.push("demo");
  return out;
}

const DEFAULT_MODEL: Record<BuiltinProvider, string> = {
  openai: "gpt-4o-mini",
  claude: "claude-sonnet-4-5",
  gemini: "gemini-2.5-flash",
  demo: "demo",
};

/** The Orchestrator of new groups: the configured one, else the first provider with a key, else demo. */
export function defaultOrchestrator(config: Config): { provider: string; model: string } {
  if (config.ORCHESTRATOR_PROVIDER) {
    const provider = normalizeProvider(config, config.ORCHESTRATOR_PROVIDER) ?? config.ORCHESTRATOR_PROVIDER;
    const model = config.ORCHESTRATOR_MODEL ?? DEFAULT_MODEL[provider as BuiltinProvider] ?? "default";
    return { provider, model };
  }
  const provider = (configuredProviders(config)[0] ?? "demo") as BuiltinProvider;
  return { provider, model: config.ORCHESTRATOR_MODEL ?? DEFAULT_MODEL[provider] ?? "default" };
}

export const toolArgSchemas = {
  web_search: z.object({
    query: z.string().min(1).max(400).describe("What to search the web for"),
    max_results: z.number().int().min(1).max(10).optional().describe("How many results (default 5)"),
  }),
  calculator: z.object({
    expression: z
      .string()
      .min(1)
      .max(500)
      .describe(
        "An arithmetic expression: numbers, + - * / % ^, parentheses, sqrt, abs, round, min, max, pi, e",
      ),
  }),
  current_time: z.object({
    timezone: z.string().max(64).optional().describe("IANA time zone, e.g. Europe/Paris (default UTC)"),
  }),
} as const;

export type ToolName = keyof typeof toolArgSchemas;

export const TOOL_DESCRIPTIONS: Record<ToolName, string> = {
  web_search: "Search the web (Tavily) and return the top results with titles, URLs and snippets.",
  calculator: "Evaluate an arithmetic expression exactly as written and return the number.",
  current_time: "Return the current date and time, optionally in a given time zone.",
};

export const TOOL_NAMES = Object.keys(toolArgSchemas) as ToolName[];

export function isToolName(name: string): name is ToolName {
  return Object.hasOwn(toolArgSchemas, name);
}

/** The /system/tools listing: name, description and JSON Schema of the arguments. */
export function toolCatalog(): {
  name: ToolName;
  description: string;
  args_schema: Record<string, unknown>;
}[] {
  return TOOL_NAMES.map((name) => ({
    name,
    description: TOOL_DESCRIPTIONS[name],
    args_schema: z.toJSONSchema(toolArgSchemas[name]) as Record<string, unknown>,
  }));
}
