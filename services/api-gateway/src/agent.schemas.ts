import {
  BUILTIN_PROVIDERS,
  type Config,
  normalizeProvider,
  TOOL_NAMES,
  type ToolName,
} from "@synapse/shared";
import { z } from "zod";
import { text } from "./schemas.ts";

const RESERVED = new Set(["user", "system", "orchestrator"]);

/** The alias the Orchestrator of every group has. */
export const ORCHESTRATOR_ALIAS = "Orchestrator";

const alias = text()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9 ._-]+$/, "only letters, digits, space, '.', '_' and '-'")
  .refine((s) => !RESERVED.has(s.toLowerCase()), "is reserved (user, system, orchestrator)")
  .describe("Unique in the group, ignoring case; mentioned as @[Alias]");

const tools = z
  .array(z.enum(TOOL_NAMES as [ToolName, ...ToolName[]]))
  .max(50)
  .transform((names) => [...new Set(names)])
  .describe("Tool names from GET /system/tools");

/** Agent fields whose validation depends on the configuration (named endpoints are providers too). */
function fields(config: Pick<Config, "OPENAI_ENDPOINTS">) {
  const known = [...BUILTIN_PROVIDERS, "anthropic", ...Object.keys(config.OPENAI_ENDPOINTS)];
  const provider = text()
    .max(64)
    .transform((name, ctx) => {
      const normalized = normalizeProvider(config, name);
      if (normalized) return normalized;
      ctx.addIssue({ code: "custom", message: `unknown provider; one of ${known.join(", ")}` });
      return z.NEVER;
    })
    .describe(`One of ${known.join(", ")} (anthropic is stored as claude)`);
  return {
    alias,
    role_prompt: text().max(20_000).describe("System prompt of the agent"),
    provider,
    model: text().trim().min(1).max(200).describe("Any model name of the provider"),
    temperature: z.number().min(0).max(2),
    tools,
  };
}

/** AgentCreate (POST /groups/{id}/members, and `members` of POST /groups). */
export function agentCreateSchema(config: Pick<Config, "OPENAI_ENDPOINTS">) {
  const f = fields(config);
  return z.strictObject({
    alias: f.alias,
    role_prompt: f.role_prompt.default(""),
    provider: f.provider,
    model: f.model,
    temperature: f.temperature.default(0.7),
    tools: f.tools.default([]),
  });
}

/** AgentUpdate (PUT /groups/{id}/members/{member_id}): any subset; what is not given is kept. */
export function agentUpdateSchema(config: Pick<Config, "OPENAI_ENDPOINTS">) {
  return z.strictObject(fields(config)).partial();
}

export type AgentCreate = z.output<ReturnType<typeof agentCreateSchema>>;
export type AgentUpdate = z.output<ReturnType<typeof agentUpdateSchema>>;
