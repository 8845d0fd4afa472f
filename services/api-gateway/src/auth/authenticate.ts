import { type Config, UnauthorizedError } from "@synapse/shared";
import type { FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import { verifyAccessToken } from "./tokens.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The authenticated user's id; set by {@link authenticate} on protected routes. */
    userId: string;
  }
}

const BEARER = /^Bearer[ \t]+([A-Za-z0-9._~+/=-]+)[ \t]*$/i;

/**
 * An `onRequest` hook that requires `Authorization: Bearer <jwt>`. It runs before the body is read
 * or validated, so an unauthenticated caller learns nothing (401 before 422).
 */
export function authenticate(config: Pick<Config, "SECRET_KEY">): onRequestAsyncHookHandler {
  return async function requireUser(req: FastifyRequest) {
    const header = req.headers.authorization;
    if (!header) throw new UnauthorizedError("not authenticated: send Authorization: Bearer <token>");
    const match = BEARER.exec(header);
    const userId = match ? await verifyAccessToken(config, match[1]!) : undefined;
    if (!userId) throw new UnauthorizedError("invalid or expired token");
    req.userId = userId;
  };
}
