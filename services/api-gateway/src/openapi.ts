import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { jsonSchemaTransform, jsonSchemaTransformObject } from "fastify-type-provider-zod";
import { z } from "zod";
import type { App } from "./deps.ts";
import { WEBSOCKET_API_DOC } from "./ws/api-doc.ts";

type Transform = typeof jsonSchemaTransform;

/**
 * The `operationId` of every operation, by `METHOD /path` as the route is declared. Client
 * generators name their methods after these, so they stay stable when a route's code moves.
 */
export const OPERATION_IDS: Readonly<Record<string, string>> = {
  "GET /health": "getHealth",
  "GET /ready": "getReadiness",
  "POST /auth/register": "register",
  "POST /auth/login": "login",
  "GET /auth/me": "getMe",
  "POST /groups": "createGroup",
  "GET /groups": "listGroups",
  "GET /groups/:id": "getGroup",
  "PUT /groups/:id": "updateGroup",
  "DELETE /groups/:id": "deleteGroup",
  "POST /groups/:id/members": "addMember",
  "PUT /groups/:id/members/:member_id": "updateMember",
  "DELETE /groups/:id/members/:member_id": "removeMember",
  "POST /groups/:id/participants": "addParticipant",
  "DELETE /groups/:id/participants/:user_id": "removeParticipant",
  "POST /groups/:id/messages": "postMessage",
  "GET /groups/:id/messages": "listMessages",
  "GET /groups/:id/turns/:turn_id": "getTurn",
  "POST /groups/:id/turns/:turn_id/cancel": "cancelTurn",
  "GET /system/tools": "listTools",
  "GET /system/llm-options": "listLlmOptions",
};

/** A route missing from {@link OPERATION_IDS} still gets a unique id: `get_groups_id_messages`. */
function operationId(method: string, url: string): string {
  return (
    OPERATION_IDS[`${method} ${url}`] ??
    `${method.toLowerCase()}${url.replace(/[^A-Za-z0-9]+/g, "_").replace(/_$/, "")}`
  );
}

/** Naming and security of an operation: routes that declare no `security` are public. */
function describeOperation(doc: Parameters<Transform>[0]): Record<string, unknown> {
  const schema = (doc.schema ?? {}) as Record<string, unknown>;
  const method = [doc.route.method].flat()[0] ?? "GET";
  return { operationId: operationId(method, doc.url), security: schema.security ?? [] };
}

/**
 * The zod transform of fastify-type-provider-zod, plus bodies given per content type
 * (`body: {content: {"application/json": {schema}}}`, as POST /auth/login has), plus
 * {@link describeOperation}.
 */
const transform: Transform = (doc) => {
  const out = zodTransform(doc);
  return { ...out, schema: { ...(out.schema as object), ...describeOperation(doc) } };
};

const zodTransform: Transform = (doc) => {
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
      // relative: the document describes the gateway that serves it, wherever that is
      servers: [{ url: "/", description: "The gateway serving this document" }],
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
          oauth2: { type: "oauth2", flows: { password: { tokenUrl: "/auth/login", scopes: {} } } },
        },
      },
      tags: [
        { name: "auth", description: "Accounts and access tokens" },
        { name: "groups", description: "Group chats the caller owns or takes part in" },
        { name: "agents", description: "The AI members of a group, its Orchestrator among them" },
        { name: "participants", description: "The people of a group" },
        { name: "messages", description: "Posting (each post begins a turn) and reading history" },
        { name: "turns", description: "The work a posted message starts: status, usage, cancel" },
        { name: "system", description: "Health, readiness, tools and LLM options" },
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
