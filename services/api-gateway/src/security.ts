import { randomUUID } from "node:crypto";
import cors from "@fastify/cors";
import helmet from "@fastify/helmet";
import { type Config, cutCodePoints } from "@synapse/shared";
import type { FastifyRequest } from "fastify";
import type { App } from "./deps.ts";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The caller's `x-request-id` when it is a sane token, else a new UUID. */
export function requestId(req: { headers: Record<string, string | string[] | undefined> }): string {
  const given = req.headers["x-request-id"];
  return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Documentation pages load their own scripts and styles (ReDoc from a CDN); everything else gets none. */
const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self' https://cdn.jsdelivr.net",
  "style-src 'self' 'unsafe-inline' https://fonts.googleapis.com",
  "font-src 'self' data: https://fonts.gstatic.com",
  "img-src 'self' data: https:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "object-src 'none'",
].join("; ");

function isDocsPage(req: FastifyRequest): boolean {
  const path = req.url.split("?")[0] ?? "";
  return path === "/docs" || path.startsWith("/docs/") || path === "/redoc" || path === "/redoc/";
}

/**
 * Security headers (helmet, strict CSP except on the documentation pages), CORS for the configured
 * origins only (with credentials, never `*`), request ids echoed as `x-request-id`, and one access
 * log line per request with the path only (a query string may carry a token).
 */
export async function registerSecurity(app: App, config: Config): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"] },
    },
    crossOriginResourcePolicy: { policy: "same-site" },
  });
  await app.register(cors, {
    origin: config.CORS_ORIGINS.length > 0 ? config.CORS_ORIGINS : false,
    credentials: true,
    methods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
    allowedHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"],
    exposedHeaders: ["Retry-After", "X-Request-Id", "WWW-Authenticate"],
    maxAge: 600,
  });
  app.addHook("onRequest", async (req, reply) => {
    void reply.header("x-request-id", req.id);
    if (isDocsPage(req)) void reply.header("content-security-policy", DOCS_CSP);
  });
  app.addHook("onResponse", async (req, reply) => {
    req.log.info(
      {
        method: req.method,
        path: cutCodePoints(req.url.split("?")[0] ?? "", 300),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      "request",
    );
  });
}
