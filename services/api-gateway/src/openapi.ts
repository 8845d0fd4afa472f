import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { jsonSchemaTransform, jsonSchemaTransformObject } from "fastify-type-provider-zod";
import { z } from "zod";
import type { App } from "./deps.ts";
import { WEBSOCKET_API_DOC } from "./ws/api-doc.ts";

type Transform = typeof jsonSchemaTransform;

/**
 * The zod transform of fastify-type-provider-zod, plus bodies given per content type
 * (`body: {content: {"application/json": {schema}}}`, as POST /auth/login has).
 */
const transform: Transform = (doc) => {
  const body = (doc.schema as { body?: unknown } | undefined)?.body;
  const content = (body as { content?: Record<string, { schema: z.ZodType }> } | undefined)?.content;
  if (!doc.schema || !content) return jsonSchemaTransform(doc);
  const { body: _omit, ...rest } = doc.schema as Record<string, unknown>;
  const out = jsonSchemaTransform({ ...doc, schema: rest } as Parameters<Transform>[0]);
  const converted: Record<string, { schema: unknown }> = {};
  for (const [type, media] of Object.entries(content))
    converted[type] = {
      schema: z.toJSONSchema(media.schema, { io: "input", target: "draft-2020-12", unrepresentable: "any" }),
    };
  return { ...out, schema: { ...(out.schema as object), body: { content: converted } } };
};

const REDOC_PAGE = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Synapse API — ReDoc</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><redoc spec-url="/openapi.json"></redoc>
<script src="https://cdn.jsdelivr.net/npm/redoc@2.5.0/bundles/redoc.standalone.js"></script>
</body></html>`;

/**
 * The OpenAPI 3.1 document, generated from the routes' zod schemas: served at /openapi.json, with
 * Swagger UI at /docs and ReDoc at /redoc. Must be registered before the routes.
 */
export async function registerOpenApi(app: App): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Synapse API",
        version: "0.1.0",
        description:
          "Group chats of people and AI agents. Errors are `{detail, code}`. Authenticate with " +
          "`Authorization: Bearer <access_token>` from POST /auth/login." +
          WEBSOCKET_API_DOC,
      },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
          oauth2: { type: "oauth2", flows: { password: { tokenUrl: "/auth/login", scopes: {} } } },
        },
      },
      tags: [
        { name: "auth" },
        { name: "groups" },
        { name: "agents" },
        { name: "participants" },
        { name: "messages" },
        { name: "turns" },
        { name: "system" },
      ],
    },
    transform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: "/docs", uiConfig: { persistAuthorization: true } });

  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  app.get("/redoc", { schema: { hide: true } }, async (_req, reply) =>
    reply.type("text/html; charset=utf-8").send(REDOC_PAGE),
  );
}
