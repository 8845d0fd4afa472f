import type { IncomingHttpHeaders } from "node:http";
import type { Config, Logger } from "@synapse/shared";
import type pg from "pg";
import type { RawData, WebSocket } from "ws";
import { roleOf } from "../access.ts";
import { verifyAccessToken } from "../auth/tokens.ts";
import { isUuid, parseAfter, tokenOf } from "./auth.ts";
import { catchUp } from "./catch-up.ts";
import { CloseCode } from "./close-codes.ts";
import { errorFrame, readClientFrame } from "./frames.ts";
import type { Hub } from "./hub.ts";
import { GroupSocket } from "./socket.ts";

export interface ConnectionContext {
  config: Config;
  pool: pg.Pool;
  hub: Hub;
  logger: Logger;
  /** Every open socket of the process (liveness pings, shutdown). */
  sockets: Set<GroupSocket>;
}

export interface UpgradeRequest {
  headers: IncomingHttpHeaders;
  query: Record<string, unknown>;
  groupId: string;
  /** The group's last seq when the handshake was accepted: where a socket without `after` starts. */
  baseline?: number;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * Serves one accepted WebSocket: authenticates it, attaches it to the hub, catches it up and leaves
 * it live. Every refusal happens after the handshake, as a close frame with a code the client sees
 * (1008), since a browser cannot read the status of a refused upgrade.
 */
export function serveSocket(ws: WebSocket, req: UpgradeRequest, ctx: ConnectionContext): void {
  const socket = new GroupSocket(ws, req.groupId, ctx.config.WS_SEND_BUFFER_BYTES);
  ctx.sockets.add(socket);
  socket.onClose(() => ctx.sockets.delete(socket));
  ws.on("pong", () => {
    socket.alive = true;
  });
  ws.on("message", (data, isBinary) => {
    socket.alive = true;
    const r = readClientFrame(toBuffer(data), isBinary);
    socket.reply(r.ok ? r.reply : errorFrame(r.code, r.detail));
  });
  ws.on("error", (err) => ctx.logger.debug({ err, group_id: req.groupId }, "ws: socket error"));
  void open(socket, req, ctx).catch((err: unknown) => {
    ctx.logger.error({ err, group_id: req.groupId, user_id: socket.userId }, "ws: opening socket failed");
    socket.close(CloseCode.internal, "internal error: reconnect later");
  });
}

async function open(socket: GroupSocket, req: UpgradeRequest, ctx: ConnectionContext): Promise<void> {
  const token = tokenOf(req.headers, req.query);
  const userId = token ? await verifyAccessToken(ctx.config, token) : undefined;
  if (!userId) return socket.close(CloseCode.policy, token ? "invalid token" : "missing token");
  if (!isUuid(req.groupId)) return socket.close(CloseCode.policy, "invalid group id");
  const after = parseAfter(req.query) ?? req.baseline;
  if (after === "invalid")
    return socket.close(CloseCode.policy, "invalid after: want a non-negative integer");
  if (socket.closed) return;
  socket.userId = userId;
  // attach (and so start buffering) before checking membership and reading history: a removal or a
  // message committed from here on reaches this socket through the hub
  await ctx.hub.attach(socket);
  if (socket.closed) return;
  if (!(await roleOf(ctx.pool, req.groupId, userId)))
    return socket.close(CloseCode.policy, "not a participant of this group");
  await catchUp(
    socket,
    after,
    ctx.pool,
    () => ctx.hub.lastSeq(req.groupId),
    () => ctx.hub.turnState(req.groupId),
  );
  ctx.logger.debug({ group_id: req.groupId, user_id: userId, after }, "ws: socket live");
}
