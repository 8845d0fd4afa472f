import { type Config, configuredProviders, MODEL_SUGGESTIONS, toolCatalog } from "@synapse/shared";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { RouteContext } from "../deps.ts";
import { authErrorResponses, noQuery, secured } from "../schemas.ts";

const toolSchema = z
  .object({ name: z.string(), description: z.string(), args_schema: z.record(z.string(), z.unknown()) })
  .meta({ id: "Tool" });

const llmOptionSchema = z
  .object({
    provider_name: z.string(),
    models: z.array(z.object({ id: z.string(), name: z.string() })).describe("Suggestions, not a whitelist"),
  })
  .meta({ id: "LlmOption" });

/** Providers that can be called now, each with model suggestions (a named endpoint: `default`). */
export function llmOptions(config: Config): z.output<typeof llmOptionSchema>[] {
  return configuredProviders(config).map((provider) => ({
    provider_name: provider,
    models: (MODEL_SUGGESTIONS as Record<string, { id: string; name: string }[]>)[provider] ?? [
      { id: "default", name: `${provider} (the endpoint's default model)` },
    ],
  }));
}

/** GET /system/tools, GET /system/llm-options. */
export const systemRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext }> = async (app, { ctx }) => {
  app.addHook("onRequest", ctx.authenticate);
  const tools = toolCatalog();

  app.get(
    "/system/tools",
    {
      schema: {
        tags: ["system"],
        summary: "Tools an agent can be given",
        security: secured,
        querystring: noQuery,
        response: { 200: z.array(toolSchema), ...authErrorResponses() },
      },
    },
    async () => tools,
  );

  app.get(
    "/system/llm-options",
    {
      schema: {
        tags: ["system"],
        summary: "Configured LLM providers with model suggestions",
        security: secured,
        querystring: noQuery,
        response: { 200: z.array(llmOptionSchema), ...authErrorResponses() },
      },
    },
    async () => llmOptions(ctx.config),
  );
};
