import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import WebSocket, { type WebSocket as ServerSide, WebSocketServer } from "ws";
import type { ServerFrame } from "./frames.ts";
import {
  type ConnectionState,
  GroupSocket,
  type GroupSocketOptions,
  reconnectDelay,
  type StateInfo,
} from "./group-socket.ts";

/** One connection the fake gateway accepted. */
interface Conn {
  ws: ServerSide;
  url: URL;
  protocol: string;
  at: number;
  received: string[];
}

/** A bare `ws` server standing in for the gateway: tests drive each connection by hand. */
class FakeGateway {
  readonly conns: Conn[] = [];
  #waiters: (() => void)[] = [];
  constructor(readonly wss: WebSocketServer) {
    wss.on("connection", (ws, req) => {
      const conn: Conn = {
        ws,
        url: new URL(req.url ?? "/", "http://x"),
        protocol: ws.protocol,
        at: performance.now(),
        received: [],
      };
      ws.on("message", (d) => conn.received.push(String(d)));
      this.conns.push(conn);
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  /** Resolves with the n-th connection (1-based) once it is there. */
  async conn(n: number): Promise<Conn> {
    while (this.conns.length < n) await new Promise<void>((r) => this.#waiters.push(r));
    return this.conns[n - 1]!;
  }
}

const message = (seq: number): ServerFrame => ({
  type: "message",
  message: {
    id: `m${seq}`,
    group_id: "g",
    seq,
    turn_id: null,
    sender_type: "user",
    sender_alias: "alice@example.com",
    sender_user_id: null,
    content: `hello ${seq}`,
    tool_calls: null,
    tool_call_id: null,
    created_at: new Date(0).toISOString(),
    meta: null,
  },
});

const send = (c: Conn, ...frames: ServerFrame[]) => {
  for (const f of frames) c.ws.send(JSON.stringify(f));
};

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

let gw: FakeGateway;
let sockets: GroupSocket[];

beforeEach(async () => {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise((r) => wss.once("listening", r));
  gw = new FakeGateway(wss);
  sockets = [];
});

afterEach(async () => {
  vi.useRealTimers();
  for (const s of sockets) s.close();
  for (const c of gw.wss.clients) c.terminate();
  await new Promise((r) => gw.wss.close(r));
});

/** A GroupSocket on the fake gateway, recording its frames and states. */
function open(opts: Partial<GroupSocketOptions> = {}) {
  const frames: ServerFrame[] = [];
  const states: [ConnectionState, StateInfo | undefined][] = [];
  const socket = new GroupSocket({
    baseUrl: gw.baseUrl,
    groupId: "g",
    token: () => "tok.en.jwt",
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    backoff: { initialMs: 10, maxMs: 50 },
    ...opts,
  });
  socket.onFrame((f) => frames.push(f));
  socket.onState((s, info) => states.push([s, info]));
  sockets.push(socket);
  return {
    socket,
    frames,
    states,
    seqs: () => frames.flatMap((f) => (f.type === "message" ? [f.message.seq] : [])),
  };
}

describe("reconnectDelay", () => {
  it("doubles from initialMs up to maxMs, jittered between half and all of it", () => {
    const backoff = { initialMs: 100, maxMs: 1_000 };
    const low = [0, 1, 2, 3, 4, 5].map((n) => reconnectDelay(n, backoff, () => 0));
    const high = [0, 1, 2, 3, 4, 5].map((n) => reconnectDelay(n, backoff, () => 1));
    expect(low).toEqual([50, 100, 200, 400, 500, 500]);
    expect(high).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(reconnectDelay(0)).toBeGreaterThanOrEqual(250);
    expect(reconnectDelay(20)).toBeLessThanOrEqual(30_000);
  });
});

describe("GroupSocket", () => {
  it("authenticates by subprotocol, starts after the given seq and delivers frames", async () => {
    const { socket, frames, states } = open({ after: 7 });
    const c = await gw.conn(1);
    expect(c.protocol).toBe("bearer.tok.en.jwt");
    expect(c.url.pathname).toBe("/ws/g");
    expect(c.url.searchParams.get("after")).toBe("7");
    expect(c.url.searchParams.has("token")).toBe(false);
    await until(() => socket.state === "open");
    send(c, message(8), { type: "pong" });
    await until(() => frames.length === 2);
    expect(socket.lastSeq).toBe(8);
    expect(states.map(([s]) => s)).toEqual(["open"]);
  });

  it("without after, asks for live events only", async () => {
    open();
    const c = await gw.conn(1);
    expect(c.url.search).toBe("");
  });

  it("reconnects with after=<lastSeq> and drops the messages it already delivered", async () => {
    const { socket, states, seqs } = open();
    const first = await gw.conn(1);
    send(first, message(1), message(2));
    await until(() => socket.lastSeq === 2);
    first.ws.close(1013, "slow consumer");
    const second = await gw.conn(2);
    expect(second.url.searchParams.get("after")).toBe("2");
    expect(second.protocol).toBe("bearer.tok.en.jwt");
    // a server replaying from an older point: the repeats are dropped
    send(second, message(1), message(2), message(3));
    await until(() => socket.lastSeq === 3);
    expect(seqs()).toEqual([1, 2, 3]);
    expect(states).toContainEqual(["reconnecting", { code: 1013, reason: "slow consumer" }]);
    expect(states.at(-1)![0]).toBe("open");
  });

  it("reconnects after a network drop", async () => {
    const { socket } = open({ after: 4 });
    (await gw.conn(1)).ws.terminate();
    const second = await gw.conn(2);
    expect(second.url.searchParams.get("after")).toBe("4");
    await until(() => socket.state === "open");
  });

  it("stops for good on 1008, with the code and reason", async () => {
    const { socket, states } = open();
    (await gw.conn(1)).ws.close(1008, "invalid token");
    await until(() => socket.state === "closed");
    expect(states.at(-1)).toEqual(["closed", { code: 1008, reason: "invalid token" }]);
    await new Promise((r) => setTimeout(r, 100));
    expect(gw.conns).toHaveLength(1);
  });

  it("does not reconnect after close()", async () => {
    const { socket, states } = open();
    await gw.conn(1);
    await until(() => socket.state === "open");
    socket.close();
    expect(socket.state).toBe("closed");
    await new Promise((r) => setTimeout(r, 100));
    expect(gw.conns).toHaveLength(1);
    expect(states.map(([s]) => s)).toEqual(["open", "closed"]);
  });

  it("waits longer after each failed attempt", async () => {
    gw.wss.on("connection", (ws) => ws.close(1011, "internal error"));
    const { socket } = open({ backoff: { initialMs: 20, maxMs: 160 } });
    await gw.conn(5);
    socket.close();
    const gaps = gw.conns.slice(1).map((c, i) => c.at - gw.conns[i]!.at);
    // timers never fire early: the fourth wait is at least half of 20 * 2^3
    expect(gaps[3]).toBeGreaterThanOrEqual(78);
    expect(gw.conns.every((c) => c.url.search === "")).toBe(true);
  });

  it("starts the back-off afresh once a connection delivered a frame", async () => {
    gw.wss.on("connection", (ws) => {
      // the fourth connection answers before it drops; the others fail at once
      if (gw.conns.length === 4) ws.send(JSON.stringify({ type: "pong" }), () => ws.close(1011));
      else ws.close(1011);
    });
    const { socket } = open({ backoff: { initialMs: 50, maxMs: 10_000 } });
    await gw.conn(5);
    socket.close();
    const gaps = gw.conns.slice(1).map((c, i) => c.at - gw.conns[i]!.at);
    // the third wait is 100-200 ms; after the answered connection it is 25-50 ms again
    expect(gaps[2]).toBeGreaterThanOrEqual(98);
    expect(gaps[3]).toBeLessThan(gaps[2]!);
  });

  it("pings every 25 s while open", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const { socket } = open();
    const c = await gw.conn(1);
    await until(() => socket.state === "open");
    vi.advanceTimersByTime(25_000);
    await until(() => c.received.length === 1);
    expect(JSON.parse(c.received[0]!)).toEqual({ type: "ping" });
  });

  it("closes, with the reason, when no socket can be made of its options", async () => {
    let token = "tok.en.jwt";
    const { socket, states } = open({ token: () => token });
    token = "not a subprotocol";
    (await gw.conn(1)).ws.close(1011);
    await until(() => socket.state === "closed");
    expect(states.at(-1)?.[1]?.reason).toBeTruthy();
    expect(gw.conns).toHaveLength(1);
  });

  it("sends no subprotocol without a token", async () => {
    open({ token: () => null });
    expect((await gw.conn(1)).protocol).toBe("");
  });
});
