import { type Config, isToolName, TOOL_DESCRIPTIONS, type ToolName, toolArgSchemas } from "@synapse/shared";
import { z } from "zod";
import { CalculatorError, evaluate, formatNumber } from "./calculator.ts";
import { currentTime } from "./current-time.ts";
import { WebSearchError, webSearch } from "./web-search.ts";

/** What a tool call gives back to the agent: an error is a result too (`is_error`), never a crash. */
export interface ToolOutcome {
  content: string;
  is_error: boolean;
}

/** What tools may use. */
export interface ToolEnv {
  config: Pick<Config, "TAVILY_API_KEY" | "TAVILY_BASE_URL">;
  signal: AbortSignal;
  now?: () => Date;
}

const fail = (content: string): ToolOutcome => ({ content, is_error: true });

function describeIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join(".") || "arguments"}: ${i.message}`).join("; ");
}

/**
 * Validates the arguments of a tool call against its schema (catalog.ts) and runs it.
 * Only an abort (cancel) rejects; every other failure is an `is_error` outcome.
 */
export async function runTool(name: string, rawArgs: unknown, env: ToolEnv): Promise<ToolOutcome> {
  if (!isToolName(name)) return fail(`unknown tool "${name}"`);
  const parsed = toolArgSchemas[name].safeParse(rawArgs);
  if (!parsed.success) return fail(`invalid arguments for ${name}: ${describeIssues(parsed.error)}`);
  const args = parsed.data as Record<string, unknown>;
  try {
    switch (name) {
      case "calculator":
        return { content: formatNumber(evaluate(args.expression as string)), is_error: false };
      case "current_time":
        return {
          content: currentTime(args.timezone as string | undefined, env.now?.() ?? new Date()),
          is_error: false,
        };
      case "web_search": {
        const key = env.config.TAVILY_API_KEY;
        if (!key) return fail("web_search is disabled: TAVILY_API_KEY is not set");
        const content = await webSearch(args.query as string, (args.max_results as number | undefined) ?? 5, {
          apiKey: key,
          baseUrl: env.config.TAVILY_BASE_URL,
          signal: env.signal,
        });
        return { content, is_error: false };
      }
    }
  } catch (err) {
    if (env.signal.aborted) throw err;
    if (err instanceof CalculatorError) return fail(`calculator: ${err.message}`);
    if (err instanceof RangeError) return fail(`current_time: unknown time zone "${String(args.timezone)}"`);
    if (err instanceof WebSearchError) return fail(err.message);
    return fail(`${name} failed unexpectedly`);
  }
}

/** Keeps only JSON Schema keywords every provider accepts (Gemini rejects $schema, additionalProperties…). */
function portableSchema(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(portableSchema);
  if (typeof s !== "object" || s === null) return s;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (["type", "description", "required", "enum", "items"].includes(k)) out[k] = portableSchema(v);
    else if (k === "properties")
      out[k] = Object.fromEntries(Object.entries(v as object).map(([p, ps]) => [p, portableSchema(ps)]));
  }
  return out;
}

const definitions = new Map<ToolName, object>();

/** The tools of an agent in OpenAI function format (which every LangChain provider accepts). */
export function toolDefinitions(names: readonly string[]): object[] {
  return names.filter(isToolName).map((name) => {
    let def = definitions.get(name);
    if (!def) {
      def = {
        type: "function",
        function: {
          name,
          description: TOOL_DESCRIPTIONS[name],
          parameters: portableSchema(z.toJSONSchema(toolArgSchemas[name])),
        },
      };
      definitions.set(name, def);
    }
    return def;
  });
}
