import type { IncomingHttpHeaders } from "node:http";
import { parseDecimalInt } from "@synapse/shared";

/** Prefix of the subprotocol that carries a token: `Sec-WebSocket-Protocol: bearer.<jwt>`. */
export const BEARER_PROTOCOL_PREFIX = "bearer.";

function firstString(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (Array.isArray(v) && typeof v[0] === "string") return v[0];
  return undefined;
}

/**
 * The access token of an upgrade request, from (in this order) `Authorization: Bearer <jwt>`, the
 * subprotocol `bearer.<jwt>`, or `?token=<jwt>`. Browsers can set neither headers nor (safely) a
 * query string in every setting, hence three ways.
 */
export function tokenOf(headers: IncomingHttpHeaders, query: Record<string, unknown>): string | undefined {
  const auth = headers.authorization;
  if (auth) {
    const m = /^Bearer[ \t]+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const protocols = headers["sec-websocket-protocol"];
  if (protocols) {
    for (const p of protocols.split(",")) {
      const t = p.trim();
      if (t.startsWith(BEARER_PROTOCOL_PREFIX) && t.length > BEARER_PROTOCOL_PREFIX.length)
        return t.slice(BEARER_PROTOCOL_PREFIX.length);
    }
  }
  const q = firstString(query.token);
  return q ? q : undefined;
}

/**
 * Picks the subprotocol echoed in the handshake: `bearer.<jwt>` when offered (a browser that
 * offers subprotocols fails the handshake unless one is echoed), else the first one offered.
 */
export function selectProtocol(protocols: Set<string>): string | false {
  for (const p of protocols) if (p.startsWith(BEARER_PROTOCOL_PREFIX)) return p;
  const first = protocols.values().next();
  return first.done ? false : first.value;
}

export { isUuid } from "@synapse/shared";

/** `?after=`: absent → undefined; a seq (decimal digits, as HTTP query integers) → it; anything else → "invalid". */
export function parseAfter(query: Record<string, unknown>): number | undefined | "invalid" {
  const raw = query.after;
  if (raw === undefined) return undefined;
  const s = firstString(raw);
  return (s === undefined ? undefined : parseDecimalInt(s, 0, Number.MAX_SAFE_INTEGER)) ?? "invalid";
}
