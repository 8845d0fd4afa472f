import type { IncomingMessage, ServerResponse } from "node:http";
import type { Config, Logger } from "@synapse/shared";
import type { Queue } from "bullmq";
import type {
  FastifyBaseLogger,
  FastifyInstance,
  onRequestAsyncHookHandler,
  RawServerDefault,
} from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Redis } from "ioredis";
import type pg from "pg";

/** What the gateway is built from; main.ts makes them, tests make their own. */
export interface GatewayDeps {
  config: Config;
  pool: pg.Pool;
  redis: Redis;
  /** A Redis connection of its own on which the WebSocket part subscribes to the groups' channels. */
  subscriber: Redis;
  logger: Logger;
  /** BullMQ queue `orchestrator` (prefix `QUEUE_PREFIX`); the gateway adds `advance` jobs to it. */
  orchestratorQueue: Queue;
  /**
   * Folder of the browser client's build, served under `/app/`; `null` serves none.
   * @defaultValue packages/web/dist
   */
  webRoot?: string | null;
}

/** What each route module receives. */
export interface RouteContext extends GatewayDeps {
  /** `onRequest` hook requiring a valid bearer token; sets `req.userId`. */
  authenticate: onRequestAsyncHookHandler;
}

/** The gateway's Fastify instance, typed for zod schemas. */
export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;
