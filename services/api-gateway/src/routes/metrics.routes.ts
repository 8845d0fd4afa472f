import { httpRequestDuration, registry } from "@synapse/shared/telemetry/metrics";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { RouteContext } from "../deps.ts";

/** `GET /metrics`: Prometheus text, no auth (keep it off the public internet at the proxy). */
export const metricsRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext }> = async (app) => {
  app.get("/metrics", { schema: { hide: true } }, async (_req, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
};

/** `onResponse` hook of the whole app: each request's duration by route template and status. */
export async function observeRequest(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  httpRequestDuration.observe(
    { method: req.method, route: req.routeOptions.url ?? "unmatched", status: String(reply.statusCode) },
    reply.elapsedTime / 1000,
  );
}
