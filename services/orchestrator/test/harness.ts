import {
  announceCancel,
  type Config,
  createPool,
  createProducer,
  createQueue,
  createRedis,
  EXECUTION_QUEUE,
  type ExecutionResult,
  type GroupFrame,
  groupChannel,
  jobIds,
  type LlmJob,
  type Message,
  markTurnEnded,
  ORCHESTRATOR_QUEUE,
  type ResultJob,
  retryDelayMs,
  storeUserMessage,
  type ToolJob,
  withGroupLock,
} from "@synapse/shared";
import { type Job, type Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type pg from "pg";
import pino from "pino";
import { insertAgents, insertGroup, insertUser } from "../../../test/support/seed.ts";
import { testConfig, testUrls } from "../../../test/support/services.ts";
import { TurnCheckpointSaver } from "../src/graph/pg-saver.ts";
import { type Orchestrator, startOrchestrator } from "../src/orchestrator.ts";

/** The orchestrator's saver, whose next `put` for a thread can be made to fail, as if the process died before its checkpoint. */
class FlakySaver extends TurnCheckpointSaver {
  constructor(
    db: pg.Pool | pg.PoolClient,
    readonly failPut = new Set<string>(),
  ) {
    super(db);
  }

  override withClient(client: pg.PoolClient): FlakySaver {
    return new FlakySaver(client, this.failPut);
  }

  override async put(
    ...args: Parameters<TurnCheckpointSaver["put"]>
  ): ReturnType<TurnCheckpointSaver["put"]> {
    const thread = String(args[0].configurable?.thread_id);
    if (this.failPut.delete(thread)) throw new Error("injected: checkpoint lost");
    return super.put(...args);
  }
}

/** Runs `faults.statement` before each statement of the pool's connections. */
function failStatements(pool: pg.Pool, faults: Harness["faults"]): void {
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
    client.query = ((...args: unknown[]) => {
      const [first, second] = args;
      const config = typeof first === "string" ? { text: first, values: second } : (first as pg.QueryConfig);
      const values = Array.isArray(config.values) ? (config.values as unknown[]) : [];
      try {
        faults.statement?.(config.text, values);
      } catch (err) {
        // pool.query passes a callback; everything else awaits the promise
        const callback = args.at(-1);
        if (typeof callback !== "function") return Promise.reject(err);
        process.nextTick(() => (callback as (e: unknown) => void)(err));
        return undefined;
      }
      return query(...args);
    }) as typeof client.query;
  });
}

/**
 * Runs `faults.frame` before each frame published on the connections made from `bullmq` (the
 * orchestrator's producer is one).
 */
function failFrames(bullmq: Redis, faults: Harness["faults"]): void {
  const duplicate = bullmq.duplicate.bind(bullmq);
  bullmq.duplicate = (...args: Parameters<Redis["duplicate"]>) => {
    const client = duplicate(...args);
    const publish = client.publish.bind(client) as (channel: string, message: string) => Promise<number>;
    client.publish = ((channel: string, message: string) => {
      try {
        faults.frame?.(JSON.parse(message) as GroupFrame);
      } catch (err) {
        return Promise.reject(err);
      }
      return publish(channel, message);
    }) as typeof client.publish;
    return client;
  };
}

/**
 * Integration-test rig: real PostgreSQL and Redis, the real orchestrator in-process, and in place of
 * the execution worker a scripted BullMQ worker on the execution queue that answers `llm` and `tool`
 * jobs by adding `result` jobs, as the real one does. Tests insert data exactly as the gateway would.
 */

export type ExecJob = (Job<LlmJob, unknown, "llm"> | Job<ToolJob, unknown, "tool">) & {
  name: "llm" | "tool";
};

/** What the scripted executor does with a job: answer it (the default), or nothing (`null`). */
export type Reply =
  | { content?: string; tool_calls?: { id: string; name: string; args?: Record<string, unknown> }[] }
  | { error: string }
  | null;

export type Script = (job: LlmJob | ToolJob, kind: "llm" | "tool") => Reply | Promise<Reply>;

export interface Group {
  groupId: string;
  userId: string;
  agents: Record<string, string>;
}

export interface Harness {
  config: Config;
  pool: pg.Pool;
  redis: Redis;
  orchestrator: Orchestrator;
  orchestratorQueue: Queue;
  /** Execution jobs seen, in arrival order (each job once, even if retried). */
  jobs: { kind: "llm" | "tool"; data: LlmJob | ToolJob }[];
  /** Per group: how the executor answers. */
  scripts: Map<string, Script>;
  /**
   * Fault injection at the orchestrator's boundaries. `frame`: called with each frame the
   * orchestrator publishes, before it is sent; throw, and that publish fails without sending it
   * (the step fails once its frames are awaited, its other announcements made). `statement`:
   * called with each statement run on the orchestrator's pool; throw, and it fails unsent.
   */
  faults: {
    frame?: (frame: GroupFrame) => void;
    statement?: (text: string, values: readonly unknown[]) => void;
  };
  /** Makes the next checkpoint write of this turn fail. */
  failNextCheckpoint(turnId: string): void;
  /** Checkpoint failures asked for and not yet injected. */
  pendingCheckpointFailures(): number;
  /** The orchestrator's log lines (debug and up), parsed. */
  logs: Record<string, unknown>[];
  /** Frames published on each group's channel, in order. */
  frames(groupId: string): GroupFrame[];
  createGroup(agents: string[]): Promise<Group>;
  /** Posts a person's message as the gateway does: message + queued turn in one transaction, publish, `advance`. */
  post(
    g: Group,
    content: string,
    opts?: { advance?: boolean },
  ): Promise<{ messageId: string; turnId: string }>;
  /** Cancels a turn as the gateway does. */
  cancel(g: Group, turnId: string): Promise<void>;
  /** Adds a result job as the execution worker does (or with another job id, to deliver it twice). */
  deliver(job: LlmJob | ToolJob, result: ExecutionResult, jobId?: string): Promise<void>;
  resultFor(job: LlmJob | ToolJob, kind: "llm" | "tool", reply: Exclude<Reply, null>): ExecutionResult;
  waitTurn(turnId: string, timeoutMs?: number): Promise<TurnRow>;
  messages(groupId: string): Promise<Message[]>;
  close(): Promise<void>;
}

export interface TurnRow {
  id: string;
  status: string;
  reason: string | null;
  steps: number;
  usage: {
    input_tokens: number;
    output_tokens: number;
    by_agent: Record<string, { input_tokens: number; output_tokens: number; calls: number }>;
  };
  started_at: Date | null;
  ended_at: Date | null;
}

export async function waitFor<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface HarnessOptions {
  env?: Record<string, string>;
  /** The orchestrator's own pool (e.g. through a proxy a test takes away); tests' reads use `pool`. */
  orchestratorPool?: pg.Pool;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const config = testConfig({ ORCHESTRATOR_CONCURRENCY: "8", ...opts.env });
  const prefix = config.QUEUE_PREFIX;
  const { databaseUrl, redisUrl } = testUrls();
  const pool = createPool(databaseUrl, { max: 24 });
  const redis = createRedis(redisUrl);
  const bullmq = createRedis(redisUrl, { bullmq: true });
  const faults: Harness["faults"] = {};
  failFrames(bullmq, faults); // before the producer is made from it
  const producer = createProducer(bullmq);
  const sub = createRedis(redisUrl);
  const frames = new Map<string, GroupFrame[]>();
  sub.on("pmessage", (_p, channel, raw) => {
    const groupId = channel.slice(`${prefix}:group:`.length);
    if (!frames.has(groupId)) frames.set(groupId, []);
    frames.get(groupId)!.push(JSON.parse(raw) as GroupFrame);
  });
  await sub.psubscribe(`${prefix}:group:*`);

  const orchestratorPool = opts.orchestratorPool ?? pool;
  failStatements(orchestratorPool, faults);
  const logs: Record<string, unknown>[] = [];
  const logger = pino(
    { level: "debug" },
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const saver = new FlakySaver(orchestratorPool);
  const orchestrator = await startOrchestrator({
    config,
    pool: orchestratorPool,
    bullmq,
    producer,
    heartbeat: false,
    logger,
    // sweeps cover the whole database, which other test files share: tests sweep their own groups
    sweepIntervalMs: 0,
    checkpointer: saver,
  });
  const orchestratorQueue = createQueue(ORCHESTRATOR_QUEUE, bullmq, config);
  const jobs: Harness["jobs"] = [];
  const scripts = new Map<string, Script>();

  function resultFor(
    job: LlmJob | ToolJob,
    kind: "llm" | "tool",
    reply: Exclude<Reply, null>,
  ): ExecutionResult {
    const base = { alias: job.alias, agent_id: job.agent_id, message_id: job.message_id };
    if (kind === "tool") {
      const call = (job as ToolJob).tool_call;
      return {
        ...base,
        kind: "tool",
        ok: true,
        tool_name: call.name,
        tool_call_id: call.id,
        content: "content" in reply ? (reply.content ?? "") : "",
        is_error: "error" in reply,
      };
    }
    if ("error" in reply)
      return {
        ...base,
        kind: "llm_error",
        ok: false,
        error: { code: "provider_rejected", detail: reply.error },
      };
    return {
      ...base,
      kind: "llm",
      ok: true,
      content: reply.content ?? "",
      tool_calls: (reply.tool_calls ?? []).map((t) => ({ id: t.id, name: t.name, args: t.args ?? {} })),
      usage: { input_tokens: 3, output_tokens: 2 },
    };
  }

  async function deliver(job: LlmJob | ToolJob, result: ExecutionResult, jobId?: string): Promise<void> {
    const data: ResultJob = {
      group_id: job.group_id,
      turn_id: job.turn_id,
      dispatch_id: job.dispatch_id,
      result,
    };
    await orchestratorQueue.add("result", data, {
      jobId: jobId ?? jobIds.result(job.dispatch_id),
      attempts: 5,
      backoff: { type: "exponential", delay: 100 },
    });
  }

  const executor = new Worker(
    EXECUTION_QUEUE,
    async (job: Job) => {
      const kind = job.name as "llm" | "tool";
      const data = job.data as LlmJob | ToolJob;
      if (job.attemptsMade === 0) jobs.push({ kind, data });
      const script = scripts.get(data.group_id);
      const reply = script ? await script(data, kind) : { content: "TASK_COMPLETE" };
      if (reply === null) return;
      await deliver(data, resultFor(data, kind, reply));
    },
    { connection: bullmq, prefix, concurrency: 16, settings: { backoffStrategy: retryDelayMs } },
  );

  return {
    config,
    pool,
    redis,
    orchestrator,
    orchestratorQueue,
    jobs,
    scripts,
    faults,
    failNextCheckpoint: (turnId) => saver.failPut.add(turnId),
    pendingCheckpointFailures: () => saver.failPut.size,
    logs,
    frames: (groupId) => frames.get(groupId) ?? [],
    async createGroup(aliases) {
      const userId = await insertUser(pool);
      const groupId = await insertGroup(pool, { ownerId: userId, name: "g" });
      const rows = await insertAgents(
        pool,
        groupId,
        ["Orchestrator", ...aliases].map((alias) => ({ alias })),
      );
      const agents = Object.fromEntries(rows.map((a) => [a.alias, a.id]));
      return { groupId, userId, agents };
    },
    async post(g, content, postOpts = {}) {
      const message = await storeUserMessage(pool, {
        group_id: g.groupId,
        user_id: g.userId,
        sender_alias: "user",
        content,
      });
      const messageId = message.id;
      const turnId = message.turn_id!;
      await redis.publish(groupChannel(prefix, g.groupId), JSON.stringify({ type: "message", message }));
      if (postOpts.advance !== false) await orchestratorQueue.add("advance", { group_id: g.groupId });
      return { messageId, turnId };
    },
    async cancel(g, turnId) {
      // as the gateway does: the end under the lock, its frame after the commit
      const ended = await withGroupLock(pool, g.groupId, (client) =>
        markTurnEnded(client, turnId, "cancelled"),
      );
      await announceCancel(redis, prefix, g.groupId, turnId, { ended: ended !== undefined });
      await orchestratorQueue.add("advance", { group_id: g.groupId });
    },
    deliver,
    resultFor,
    async waitTurn(turnId, timeoutMs = 10_000) {
      return waitFor(async () => {
        const { rows } = await pool.query<TurnRow>(
          "select id, status, reason, steps, usage, started_at, ended_at from turns where id = $1",
          [turnId],
        );
        return rows[0]?.status === "ended" ? rows[0] : undefined;
      }, timeoutMs);
    },
    async messages(groupId) {
      const { rows } = await pool.query<Message & { created_at: Date }>(
        "select * from messages where group_id = $1 order by seq",
        [groupId],
      );
      return rows;
    },
    async close() {
      await executor.close();
      await orchestrator.close();
      await orchestratorQueue.close();
      await sub.quit().catch(() => undefined);
      await pool.end();
      redis.disconnect();
      producer.disconnect();
      bullmq.disconnect();
    },
  };
}
