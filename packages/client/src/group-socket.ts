import type { ServerFrame } from "./frames.ts";

/** Where a {@link GroupSocket} is: `reconnecting` lasts from a drop until a socket opens again. */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

/** The close code and reason behind a state change, when a close caused it. */
export interface StateInfo {
  code?: number;
  reason?: string;
}

/** Options of {@link GroupSocket}. */
export interface GroupSocketOptions {
  /** Origin of the gateway, `http(s)://…` or `ws(s)://…`; relative in a browser is resolved against the page. */
  baseUrl: string;
  groupId: string;
  /** The current access token, read at each (re)connect and sent as the subprotocol `bearer.<jwt>`. */
  token: () => string | null;
  /**
   * Seq to resume after on the first connect (every stored message after it is replayed).
   * Without it the socket starts with live events only.
   */
  after?: number;
  /**
   * WebSocket implementation; Node 20 has no global one, pass `ws`'s.
   * @defaultValue globalThis.WebSocket
   */
  WebSocket?: typeof globalThis.WebSocket;
  /**
   * Reconnect delays: the n-th retry in a row waits between half and all of
   * `min(maxMs, initialMs * 2^n)`.
   * @defaultValue `{ initialMs: 500, maxMs: 30000 }`
   */
  backoff?: { initialMs?: number; maxMs?: number };
}

/** Keeps idle proxies from dropping the connection. */
const PING_INTERVAL_MS = 25_000;

/** Close codes after which a new connection cannot succeed: bad token or not a member (1008), group deleted. */
const FINAL_CLOSE_CODES = new Set([1008, 4404]);

/** The server's own ws URL for a group, with `?after=` when given. */
export function groupSocketUrl(baseUrl: string, groupId: string, after: number | undefined): string {
  const url = new URL(baseUrl, globalThis.location?.href);
  if (url.protocol === "https:") url.protocol = "wss:";
  else if (url.protocol === "http:") url.protocol = "ws:";
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/ws/${encodeURIComponent(groupId)}`;
  url.search = after === undefined ? "" : `?after=${after}`;
  url.hash = "";
  return url.toString();
}

/**
 * The wait before a reconnect that follows `retries` failed ones: between half and all of
 * `min(maxMs, initialMs * 2^retries)`; the jitter spreads the reconnects of many clients after a
 * server restart.
 */
export function reconnectDelay(
  retries: number,
  backoff: GroupSocketOptions["backoff"] = {},
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(backoff.maxMs ?? 30_000, (backoff.initialMs ?? 500) * 2 ** retries);
  return ceiling / 2 + random() * (ceiling / 2);
}

/** A frame as JSON, or undefined when it is not an object with a string `type`. */
function parseFrame(data: unknown): ServerFrame | undefined {
  if (typeof data !== "string") return undefined;
  try {
    const v: unknown = JSON.parse(data);
    if (typeof v === "object" && v !== null && typeof (v as { type?: unknown }).type === "string")
      return v as ServerFrame;
  } catch {
    // not JSON: ignored like any frame this client does not know
  }
  return undefined;
}

/** Calls each listener; one that throws is reported without keeping the others from the frame. */
function emit<A extends unknown[]>(listeners: Set<(...args: A) => void>, ...args: A): void {
  for (const cb of [...listeners]) {
    try {
      cb(...args);
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}

/**
 * A group's live feed (`/ws/{group_id}`) that survives drops: it reconnects with back-off and
 * `?after=<lastSeq>`, so no message is missed, and drops the `message` frames it already delivered.
 * It stops for good on `close()`, when the server refuses it (1008, or 4404 group deleted), or
 * when no socket can be made of its options (the reason then says why).
 */
export class GroupSocket {
  readonly #opts: GroupSocketOptions;
  readonly #WebSocket: typeof globalThis.WebSocket;
  readonly #frameListeners = new Set<(f: ServerFrame) => void>();
  readonly #stateListeners = new Set<(s: ConnectionState, info?: StateInfo) => void>();
  #ws: WebSocket | undefined;
  #state: ConnectionState = "connecting";
  #lastSeq: number;
  /** Reconnects in a row without a frame received; sets the next delay. */
  #retries = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;

  constructor(opts: GroupSocketOptions) {
    const Impl = opts.WebSocket ?? globalThis.WebSocket;
    if (!Impl) throw new Error("GroupSocket: no global WebSocket here; pass the WebSocket option");
    this.#opts = opts;
    this.#WebSocket = Impl;
    this.#lastSeq = opts.after ?? 0;
    this.#connect();
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The highest message seq delivered (or the `after` option until one is). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Subscribes to frames; returns the function that unsubscribes. */
  onFrame(cb: (f: ServerFrame) => void): () => void {
    this.#frameListeners.add(cb);
    return () => this.#frameListeners.delete(cb);
  }

  /** Subscribes to state changes; returns the function that unsubscribes. */
  onState(cb: (s: ConnectionState, info?: StateInfo) => void): () => void {
    this.#stateListeners.add(cb);
    return () => this.#stateListeners.delete(cb);
  }

  /** Closes the socket; no reconnect follows. */
  close(): void {
    if (this.#state === "closed") return;
    this.#stop();
    this.#setState("closed");
  }

  #connect(): void {
    const after = this.#lastSeq > 0 ? this.#lastSeq : this.#opts.after;
    const token = this.#opts.token();
    let ws: WebSocket;
    try {
      ws = new this.#WebSocket(
        groupSocketUrl(this.#opts.baseUrl, this.#opts.groupId, after),
        token ? [`bearer.${token}`] : [],
      );
    } catch (err) {
      // a bad base URL or a token that is no valid subprotocol: retrying cannot mend either
      this.#setState("closed", { reason: err instanceof Error ? err.message : String(err) });
      return;
    }
    this.#ws = ws;
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      this.#setState("open");
      this.#pingTimer = setInterval(() => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: "ping" }));
      }, PING_INTERVAL_MS);
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (this.#ws !== ws) return;
      const frame = parseFrame(ev.data);
      if (!frame) return;
      // the server answered: the next drop starts the back-off afresh
      this.#retries = 0;
      if (frame.type === "message") {
        if (frame.message.seq <= this.#lastSeq) return;
        this.#lastSeq = frame.message.seq;
      }
      emit(this.#frameListeners, frame);
    };
    // a close event always follows an error; the decision is taken there
    ws.onerror = () => undefined;
    ws.onclose = (ev: CloseEvent) => {
      if (this.#ws !== ws) return;
      this.#clearTimers();
      this.#ws = undefined;
      const info: StateInfo = { code: ev.code, reason: ev.reason };
      if (FINAL_CLOSE_CODES.has(ev.code)) this.#setState("closed", info);
      else this.#scheduleReconnect(info);
    };
  }

  #scheduleReconnect(info: StateInfo): void {
    this.#setState("reconnecting", info);
    const delay = reconnectDelay(this.#retries++, this.#opts.backoff);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#connect();
    }, delay);
  }

  #stop(): void {
    this.#clearTimers();
    const ws = this.#ws;
    this.#ws = undefined;
    if (ws && ws.readyState !== ws.CLOSED && ws.readyState !== ws.CLOSING) ws.close(1000, "client closed");
  }

  #clearTimers(): void {
    clearTimeout(this.#retryTimer);
    clearInterval(this.#pingTimer);
    this.#retryTimer = undefined;
    this.#pingTimer = undefined;
  }

  #setState(state: ConnectionState, info?: StateInfo): void {
    if (this.#state === state) return;
    this.#state = state;
    emit(this.#stateListeners, state, info);
  }
}
