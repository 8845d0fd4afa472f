import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import websocket from "@fastify/websocket";
import {
  type Config,
  createLogger,
  createRedis,
  type GroupFrame,
  insertMessage,
  type Logger,
  type Message,
  publishFrame,
} from "@synapse/shared";
import Fastify, { type FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import type pg from "pg";
import WebSocket from "ws";
import { spawnScript, stdoutMatch, stopChild } from "../../../../test/support/child-process.ts";
import { insertGroup, insertUser } from "../../../../test/support/seed.ts";
import { issueAccessToken } from "../../src/auth/tokens.ts";
import { registerWebSocket, type WsOptions, websocketPluginOptions } from "../../src/ws/index.ts";

/** A Fastify app with only @fastify/websocket and the WebSocket route, listening on a free port. */
export interface TestGateway {
  url: string;
  close(): Promise<void>;
}

export async function startGateway(
  config: Config,
  pool: pg.Pool,
  options: WsOptions = {},
  /** The app's and the WebSocket part's logger (a test may capture it). */
  logger: Logger = createLogger(config, "ws-test"),
): Promise<TestGateway> {
  const app = Fastify({ loggerInstance: logger });
  await app.register(websocket, websocketPluginOptions(logger));
  const redis = createRedis(config.REDIS_URL!);
  // named as the gateway's, for tests that cut its connection
  const subscriber = createRedis(config.REDIS_URL!, { name: `${config.QUEUE_PREFIX}-gateway-ws` });
  const closeWs = await registerWebSocket(
    app as unknown as FastifyInstance,
    { config, pool, redis, subscriber, logger },
    options,
  );
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `ws://127.0.0.1:${port}`,
    async close() {
      await closeWs();
      await app.close();
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}

/** The gateway in a child process (tsx), as a second machine would run it. */
export async function spawnGateway(
  config: Config,
  extraArgs: string[] = [],
): Promise<TestGateway & { child: ChildProcess }> {
  const script = path.join(import.meta.dirname, "gateway-process.ts");
  const env = { WS_SEND_BUFFER_BYTES: String(config.WS_SEND_BUFFER_BYTES) };
  const child = spawnScript("gateway", script, config, env, extraArgs);
  const [, port] = await stdoutMatch(child, /\{"port":(\d+)\}/);
  return {
    child,
    url: `ws://127.0.0.1:${port}`,
    close: () => stopChild(child),
  };
}

export interface Seeded {
  groupId: string;
  users: { id: string; token: string }[];
}

/** A group owned by the first of `participants` new users, all of them participants. */
export async function seedGroup(config: Config, pool: pg.Pool, participants = 1): Promise<Seeded> {
  const users: { id: string; token: string }[] = [];
  for (let i = 0; i < participants; i++) users.push(await seedOutsider(config, pool));
  const [owner, ...members] = users.map((u) => u.id);
  const groupId = await insertGroup(pool, { ownerId: owner!, members, name: "ws test" });
  return { groupId, users };
}

/** A user who exists but belongs to no group. */
export async function seedOutsider(config: Config, pool: pg.Pool): Promise<{ id: string; token: string }> {
  const id = await insertUser(pool);
  return { id, token: (await issueAccessToken(config, id)).access_token };
}

/** Stores a message (next seq) without publishing it. */
export async function storeMessage(pool: pg.Pool, groupId: string, content: string): Promise<Message> {
  const { message } = await insertMessage(pool, {
    id: randomUUID(),
    group_id: groupId,
    turn_id: null,
    sender_type: "system",
    sender_alias: "system",
    content,
  });
  return message;
}

/** Stores then publishes a message, as the gateway and the orchestrator do. */
export async function postMessage(
  pool: pg.Pool,
  redis: Redis,
  prefix: string,
  groupId: string,
  content: string,
): Promise<Message> {
  const message = await storeMessage(pool, groupId, content);
  await publishFrame(redis, prefix, groupId, { type: "message", message });
  return message;
}

export type Frame = { type: string; [k: string]: unknown };

/** A `ws` client that records every frame and how it closed. */
export class TestClient {
  readonly frames: Frame[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: (() => void)[] = [];

  constructor(
    readonly ws: WebSocket,
    private readonly probeAlias = "__probe",
  ) {
    this.opened = new Promise((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    this.closed = new Promise((resolve) =>
      ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      if (!(frame.type === "token" && frame.alias === this.probeAlias)) this.frames.push(frame);
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on("close", () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static connect(url: string, opts: WebSocket.ClientOptions = {}, protocols?: string[]): TestClient {
    return new TestClient(new WebSocket(url, protocols, opts));
  }

  /** `message` frames received so far, by seq. */
  seqs(): number[] {
    return this.frames.filter((f) => f.type === "message").map((f) => (f.message as Message).seq);
  }

  /** Resolves when `pred` holds over the frames received (checked at each frame). */
  async until(pred: (frames: Frame[]) => boolean, timeoutMs = 10_000, what = "frames"): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.frames)) {
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`socket closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.frames).slice(0, 500)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.ws.close();
  }
}

/**
 * Waits until the socket is live: publishes probe `token` frames (filtered out of `frames`) until
 * one arrives. The spec has no "ready" frame, and a socket without `after` only gets what is
 * published once it is live.
 */
export async function waitLive(
  clients: TestClient[],
  redis: Redis,
  prefix: string,
  groupId: string,
): Promise<void> {
  const seen = new Set<TestClient>();
  const probeTurn = randomUUID();
  const listeners = clients.map((c) => {
    const on = (data: WebSocket.RawData) => {
      const f = JSON.parse(data.toString()) as Frame;
      if (f.type === "token" && f.turn_id === probeTurn) seen.add(c);
    };
    c.ws.on("message", on);
    return () => c.ws.off("message", on);
  });
  try {
    const deadline = Date.now() + 10_000;
    while (seen.size < clients.length) {
      if (Date.now() > deadline) throw new Error("sockets never went live");
      const frame: GroupFrame = {
        type: "token",
        group_id: groupId,
        turn_id: probeTurn,
        alias: "__probe",
        message_id: probeTurn,
        delta: "",
      };
      await publishFrame(redis, prefix, groupId, frame);
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    for (const off of listeners) off();
  }
}
