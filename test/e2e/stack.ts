import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import {
  type Config,
  createLogger,
  createPool,
  createProducer,
  createQueue,
  createRedis,
  type GroupFrame,
  ORCHESTRATOR_QUEUE,
  type TurnEndReason,
  type TurnStatus,
} from "@synapse/shared";
import { skipUntracedRunTrees } from "@synapse/shared/langchain-runtime";
import type { Redis } from "ioredis";
import type pg from "pg";
import WebSocket from "ws";
import { serviceArgs } from "../../scripts/lib/service-process.ts";
import { buildApp } from "../../services/api-gateway/src/app.ts";
import {
  connectWorkerRedis,
  type ExecutionWorker,
  startExecutionWorker,
} from "../../services/execution-worker/src/index.ts";
import { type Orchestrator, startOrchestrator } from "../../services/orchestrator/src/index.ts";
import { type FakeLlmServer, type FakeRequest, startFakeLlmServer } from "../fakes/llm-server.ts";
import { testConfig } from "../support/services.ts";

/**
 * The whole stack in one process, on the run's real PostgreSQL and Redis, talking to a fake
 * provider server over HTTP: the gateway listens on a real port, so tests use real HTTP and
 * WebSocket clients exactly as a user would.
 */
export interface Stack {
  config: Config;
  url: string;
  wsUrl: string;
  pool: pg.Pool;
  fake: FakeLlmServer;
  orchestrator: Orchestrator | undefined;
  worker: ExecutionWorker | undefined;
  /** Starts an in-process execution worker (again). */
  startWorker(): Promise<ExecutionWorker>;
  /** Starts an in-process orchestrator (again). */
  startOrchestrator(): Promise<Orchestrator>;
  api<T = unknown>(
    method: string,
    path: string,
    opts?: { token?: string; body?: unknown },
  ): Promise<{ status: number; body: T }>;
  /** Registers a user and returns its token and id. */
  user(): Promise<{ id: string; email: string; token: string }>;
  /** Creates a group of `token`'s user with one agent per alias (provider openai, model "m"). */
  group(token: string, name: string, aliases: string[]): Promise<GroupBody>;
  close(): Promise<void>;
}

export interface StackOptions {
  env?: Record<string, string>;
  /** Start no execution worker (a test brings its own, e.g. a child process). */
  noWorker?: boolean;
  /** Start no orchestrator (a test brings its own, e.g. a child process). */
  noOrchestrator?: boolean;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const fake = await startFakeLlmServer();
  const config = testConfig({
    ...fake.env,
    ORCHESTRATOR_PROVIDER: "openai",
    ORCHESTRATOR_MODEL: "gpt-test",
    RATE_LIMIT_AUTH_PER_MINUTE: "100000",
    RATE_LIMIT_MESSAGES_PER_MINUTE: "100000",
    PORT: "0",
    ...opts.env,
  });
  const logger = createLogger(config, "e2e");
  const pool = createPool(config.DATABASE_URL!, { max: 40 });
  const redis = createRedis(config.REDIS_URL!);
  // named as the gateway's, for tests that cut its connection
  const subscriber = createRedis(config.REDIS_URL!, { name: `${config.QUEUE_PREFIX}-gateway-ws` });
  const bullmq = createRedis(config.REDIS_URL!, { bullmq: true });
  const queue = createQueue(ORCHESTRATOR_QUEUE, bullmq, config);
  const app = await buildApp({ config, pool, redis, subscriber, logger, orchestratorQueue: queue });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as { port: number };
  const stack: Stack = {
    config,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    pool,
    fake,
    orchestrator: undefined,
    worker: undefined,
    async startOrchestrator() {
      const producer = createProducer(bullmq);
      const started = await startOrchestrator({
        config,
        pool,
        bullmq,
        producer,
        logger,
        sweepIntervalMs: 0,
        heartbeat: false,
      });
      const o = { ...started, close: () => started.close().then(() => producer.disconnect()) };
      stack.orchestrator = o;
      return o;
    },
    async startWorker() {
      const connections = connectWorkerRedis(config.REDIS_URL!);
      const started = await startExecutionWorker({
        config,
        pool,
        connections,
        logger,
        backoff: { baseMs: 10, maxMs: 50 },
      });
      const w = { ...started, close: () => started.close().then(() => connections.close()) };
      stack.worker = w;
      return w;
    },
    async api(method, path, o = {}) {
      const res = await fetch(`${stack.url}${path}`, {
        method,
        headers: {
          ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
          ...(o.body !== undefined ? { "content-type": "application/json" } : {}),
        },
        body: o.body !== undefined ? JSON.stringify(o.body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async user() {
      const email = `e2e-${crypto.randomUUID()}@example.com`;
      const reg = await stack.api<{ id: string }>("POST", "/auth/register", {
        body: { email, password: "correct horse" },
      });
      const login = await stack.api<{ access_token: string }>("POST", "/auth/login", {
        body: { email, password: "correct horse" },
      });
      return { id: reg.body.id, email, token: login.body.access_token };
    },
    async group(token, name, aliases) {
      const members = aliases.map((alias) => ({ alias, role_prompt: "", provider: "openai", model: "m" }));
      const created = await stack.api<GroupBody>("POST", "/groups", { token, body: { name, members } });
      if (created.status !== 201) throw new Error(`POST /groups answered ${created.status}`);
      return created.body;
    },
    async close() {
      await stack.worker?.close();
      await stack.orchestrator?.close();
      await app.close();
      await queue.close();
      bullmq.disconnect();
      redis.disconnect();
      subscriber.disconnect();
      await pool.end();
      await fake.close();
    },
  };
  // the services run LangChain as their main.ts do
  skipUntracedRunTrees({ tracing: false });
  if (!opts.noOrchestrator) await stack.startOrchestrator();
  if (!opts.noWorker) await stack.startWorker();
  return stack;
}

const root = path.resolve(import.meta.dirname, "../..");

/** A service of the stack as a real process (`main.ts` of `service`), configured like the stack. */
export function spawnService(
  stack: Stack,
  service: "orchestrator" | "execution-worker",
  env: Record<string, string> = {},
): { child: ChildProcess; exited: Promise<unknown> } {
  const c = stack.config;
  const child = spawn(process.execPath, serviceArgs(service), {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "test",
      LOG_LEVEL: "warn",
      DATABASE_URL: c.DATABASE_URL,
      REDIS_URL: c.REDIS_URL,
      QUEUE_PREFIX: c.QUEUE_PREFIX,
      SECRET_KEY: c.SECRET_KEY,
      DEMO_WORD_DELAY_MS: "0",
      ...stack.fake.env,
      ...env,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  return { child, exited: new Promise((r) => child.once("exit", r)) };
}

/** The parts of a group (`GET /groups/{id}`, `POST /groups`) the tests read. */
export interface GroupBody {
  id: string;
  members: { id: string; alias: string; is_orchestrator: boolean }[];
}

/** A turn as `GET /groups/{id}/turns/{turn_id}` returns it. */
export interface TurnBody {
  id: string;
  status: TurnStatus;
  reason: TurnEndReason | null;
  steps: number;
  message_id: string;
  started_at: string | null;
  ended_at: string | null;
  usage: {
    input_tokens: number;
    output_tokens: number;
    by_agent: Record<string, { input_tokens: number; output_tokens: number; calls: number }>;
  };
}

/**
 * What a client can receive on `/ws/{group_id}`: the group's frames, and the gateway's own replies
 * (`pong` to a ping, `error` to a bad client frame).
 */
export type ReceivedFrame = GroupFrame | { type: "pong" } | { type: "error"; code: string; detail: string };

export type FrameOfType<K extends ReceivedFrame["type"]> = Extract<ReceivedFrame, { type: K }>;

/** A type guard for `waitFor`: a frame of type `type` for which `pred` (if given) holds. */
export function isFrame<K extends ReceivedFrame["type"]>(
  type: K,
  pred: (f: FrameOfType<K>) => boolean = () => true,
): (f: ReceivedFrame) => f is FrameOfType<K> {
  return (f): f is FrameOfType<K> => f.type === type && pred(f as FrameOfType<K>);
}

/** A WebSocket client that records every frame it receives. */
export interface FrameLog {
  frames: ReceivedFrame[];
  /** Resolves with the first frame matching `pred` (already received or future). */
  waitFor<F extends ReceivedFrame>(pred: (f: ReceivedFrame) => f is F, timeoutMs?: number): Promise<F>;
  close(): void;
}

export async function openSocket(
  stack: Stack,
  groupId: string,
  token: string,
  after?: number,
): Promise<FrameLog> {
  const q = new URLSearchParams({ token, ...(after !== undefined ? { after: String(after) } : {}) });
  const ws = new WebSocket(`${stack.wsUrl}/ws/${groupId}?${q}`);
  const frames: ReceivedFrame[] = [];
  /** Each waiter takes a frame if it matches (and resolves with it), and says whether it did. */
  const waiters: ((f: ReceivedFrame) => boolean)[] = [];
  ws.on("message", (data) => {
    const f: ReceivedFrame = JSON.parse(String(data));
    frames.push(f);
    for (const w of [...waiters]) if (w(f)) waiters.splice(waiters.indexOf(w), 1);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return {
    frames,
    waitFor<F extends ReceivedFrame>(pred: (f: ReceivedFrame) => f is F, timeoutMs = 20_000): Promise<F> {
      const found = frames.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise<F>((resolve, reject) => {
        const t = setTimeout(
          () =>
            reject(
              new Error(`no matching frame in ${timeoutMs} ms; got ${frames.map((f) => f.type).join(",")}`),
            ),
          timeoutMs,
        );
        waiters.push((f) => {
          if (!pred(f)) return false;
          clearTimeout(t);
          resolve(f);
          return true;
        });
      });
    },
    close: () => ws.close(),
  };
}

/** Which agent a fake-provider request is for, from its system prompt ("You are <alias>, ..."). */
export function agentOf(system: string | undefined): string {
  return /You are ([^,]+),/.exec(system ?? "")?.[1] ?? "?";
}

/**
 * A delegation turn for the fake provider: the Orchestrator → Calc, who calls the calculator and
 * answers; the Orchestrator completes. Give the group a `Calc` member with the `calculator` tool.
 */
export function delegateToCalc(req: FakeRequest) {
  const who = agentOf(req.system);
  if (who === "Orchestrator")
    return req.messages.some((m) => m.content.includes("It is 42"))
      ? { text: "Done. TASK_COMPLETE" }
      : { text: "@[Calc] what is 6*7?" };
  if (req.messages.at(-1)?.role === "tool") return { text: "It is 42." };
  return { toolCalls: [{ name: "calculator", args: { expression: "6*7" } }] };
}

/** A group of `token`'s user for {@link delegateToCalc}: one member, Calc (model `m-calc`, the calculator). */
export async function calcGroup(stack: Stack, token: string, name: string): Promise<GroupBody> {
  const members = [
    { alias: "Calc", role_prompt: "", provider: "openai", model: "m-calc", tools: ["calculator"] },
  ];
  const created = await stack.api<GroupBody>("POST", "/groups", { token, body: { name, members } });
  if (created.status !== 201) throw new Error(`POST /groups answered ${created.status}`);
  return created.body;
}

export type { Redis };
