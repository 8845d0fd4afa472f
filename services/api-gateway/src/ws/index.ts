import type { WebsocketPluginOptions } from "@fastify/websocket";
import type { Config, Logger } from "@synapse/shared";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import type pg from "pg";
import { verifyAccessToken } from "../auth/tokens.ts";
import { isUuid, parseAfter, selectProtocol, tokenOf } from "./auth.ts";
import { CloseCode } from "./close-codes.ts";
import { serveSocket } from "./connection.ts";
import { Hub } from "./hub.ts";
import type { GroupSocket } from "./socket.ts";
import { socketErrorHandler } from "./socket-errors.ts";
import { readLastSeq } from "./store.ts";

export { CloseCode } from "./close-codes.ts";

/** Largest frame a client may send (clients send only pings); a bigger one closes the socket (1009). */
const MAX_CLIENT_FRAME_BYTES = 16_384;

/** What the WebSocket part of the gateway is built from; it opens no connection itself. */
export interface WsDeps {
  config: Config;
  pool: pg.Pool;
  /** For commands (reply texts, turn state). */
  redis: Redis;
  /** A connection used only to subscribe to the groups' channels. */
  subscriber: Redis;
  logger: Logger;
}

/**
 * The options to register @fastify/websocket with, for the socket route: its error handler, the
 * largest client frame, and the subprotocol (`bearer.<token>`) choice.
 */
export function websocketPluginOptions(logger: Logger): WebsocketPluginOptions {
  return {
    errorHandler: socketErrorHandler(logger),
    options: { maxPayload: MAX_CLIENT_FRAME_BYTES, handleProtocols: selectProtocol },
  };
}

/** Tuning of {@link registerWebSocket}, mostly for tests. */
export interface WsOptions {
  /**
   * Interval of server pings; a socket that has not answered the previous ping is dropped.
   * @defaultValue 30000
   */
  pingIntervalMs?: number;
}

/**
 * Registers `GET /ws/:group_id` on an app that already has @fastify/websocket registered with
 * {@link websocketPluginOptions}.
 * Returns a function that closes every socket (1001) and leaves the subscriber's channels (called on
 * shutdown; the subscriber itself is closed by whoever made it).
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
  const wss = app.websocketServer as FastifyInstance["websocketServer"] | undefined;
  if (!wss) throw new Error("registerWebSocket: await app.register(@fastify/websocket) first");
  const pingIntervalMs = options.pingIntervalMs ?? 30_000;
  const hub = new Hub({
    pool: deps.pool,
    redis: deps.redis,
    subscriber: deps.subscriber,
    prefix: deps.config.QUEUE_PREFIX,
    logger: deps.logger,
  });
  const sockets = new Set<GroupSocket>();
  const ctx = { config: deps.config, pool: deps.pool, hub, logger: deps.logger, sockets };
  let shuttingDown = false;

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
