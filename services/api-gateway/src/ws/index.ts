import type { Config, Logger } from "@synapse/shared";
import type { FastifyInstance } from "fastify";
import type pg from "pg";
import "@fastify/websocket";
import { verifyAccessToken } from "../auth/tokens.ts";
import { isUuid, parseAfter, selectProtocol, tokenOf } from "./auth.ts";
import { CloseCode } from "./close-codes.ts";
import { serveSocket } from "./connection.ts";
import { Hub } from "./hub.ts";
import type { GroupSocket } from "./socket.ts";
import { readLastSeq } from "./store.ts";

export { CloseCode } from "./close-codes.ts";
export { websocketPluginOptions } from "./socket-errors.ts";

/** What the WebSocket part of the gateway needs; it opens its own Redis subscriber from `redisUrl`. */
export interface WsDeps {
  config: Config;
  pool: pg.Pool;
  redisUrl: string;
  logger: Logger;
}

/** Tuning of {@link registerWebSocket}, mostly for tests. */
export interface WsOptions {
  /**
   * Interval of server pings; a socket that has not answered the previous ping is dropped.
   * @defaultValue 30000
   */
  pingIntervalMs?: number;
  /**
   * Largest frame a client may send (clients send only pings); a bigger one closes the socket (1009).
   * @defaultValue 16384
   */
  maxPayloadBytes?: number;
}

/**
 * Registers `GET /ws/:group_id` (SPEC §4) on an app that already has @fastify/websocket registered.
 * Returns a function that closes every socket (1001) and the subscriber (called on shutdown).
 *
 * Close codes: 1008 bad or missing token, malformed group id or `after`, not a participant, or
 * removed from the group; 4404 group deleted; 1013 slow consumer (reconnect with `?after=`);
 * 1011 internal error (reconnect later); 1001 server shutting down; 1009 client frame too big.
 */
export async function registerWebSocket(
  app: FastifyInstance,
  deps: WsDeps,
  options: WsOptions = {},
): Promise<() => Promise<void>> {
  // the ws server is created by @fastify/websocket; its options are read at each upgrade
  const wss = app.websocketServer as FastifyInstance["websocketServer"] | undefined;
  if (!wss) throw new Error("registerWebSocket: await app.register(@fastify/websocket) first");
  const pingIntervalMs = options.pingIntervalMs ?? 30_000;
  const maxPayload = options.maxPayloadBytes ?? 16_384;
  const hub = new Hub({
    pool: deps.pool,
    redisUrl: deps.redisUrl,
    prefix: deps.config.QUEUE_PREFIX,
    logger: deps.logger,
  });
  const sockets = new Set<GroupSocket>();
  const ctx = { config: deps.config, pool: deps.pool, hub, logger: deps.logger, sockets };
  let shuttingDown = false;

  if (!wss.options.maxPayload || wss.options.maxPayload > maxPayload) wss.options.maxPayload = maxPayload;
  wss.options.handleProtocols ??= selectProtocol;

  // Where a socket without `after` starts, read before the handshake completes: the client may post
  // as soon as it sees the socket open, and that message must reach it even if it commits before
  // the socket is attached to the hub (it is then read back from the database).
  const baselines = new WeakMap<object, number>();
  app.get<{ Params: { group_id: string }; Querystring: Record<string, unknown> }>(
    "/ws/:group_id",
    {
      websocket: true,
      preValidation: async (req) => {
        const query = req.query ?? {};
        if (parseAfter(query) !== undefined || !isUuid(req.params.group_id)) return;
        const token = tokenOf(req.headers, query);
        if (!token || !(await verifyAccessToken(deps.config, token))) return;
        baselines.set(req.raw, await readLastSeq(deps.pool, req.params.group_id));
      },
    },
    (ws, req) => {
      if (shuttingDown) {
        ws.close(CloseCode.goingAway, "server shutting down");
        return;
      }
      const baseline = baselines.get(req.raw);
      serveSocket(
        ws,
        { headers: req.headers, query: req.query ?? {}, groupId: req.params.group_id, baseline },
        ctx,
      );
    },
  );

  const pinger = setInterval(() => {
    for (const s of sockets) {
      if (!s.alive) {
        deps.logger.debug({ group_id: s.groupId, user_id: s.userId }, "ws: no pong, dropping socket");
        s.terminate();
        continue;
      }
      s.alive = false;
      s.ws.ping();
    }
  }, pingIntervalMs);
  pinger.unref();

  return async () => {
    if (shuttingDown) return;
    shuttingDown = true;
    clearInterval(pinger);
    const closing = [...sockets].map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.ws.readyState === s.ws.CLOSED) return resolve();
          s.ws.once("close", () => resolve());
          s.close(CloseCode.goingAway, "server shutting down");
        }),
    );
    // give clients a moment to receive the close frame; the app's own close ends the rest
    await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, 1000).unref())]);
    await hub.close();
  };
}
