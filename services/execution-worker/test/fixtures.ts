/**
 * Helpers for this service's integration tests: rows inserted with SQL, jobs added with BullMQ,
 * frames and results collected from Redis. Nothing connects on import.
 */
import { randomUUID } from "node:crypto";
import {
  type Config,
  createRedis,
  EXECUTION_QUEUE,
  type GroupFrame,
  groupChannel,
  insertMessage,
  jobIds,
  type LlmJob,
  type Message,
  type NewMessage,
  ORCHESTRATOR_QUEUE,
  type ResultJob,
  type ToolJob,
} from "@synapse/shared";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type pg from "pg";
import { insertAgents, insertGroup, insertUser } from "../../../test/support/seed.ts";
import type { AgentRow } from "../src/agents.ts";
import { connectWorkerRedis, type ExecutionWorkerDeps, startExecutionWorker } from "../src/worker.ts";

export interface SeededGroup {
  groupId: string;
  userId: string;
  email: string;
  orchestrator: AgentRow;
  agents: AgentRow[];
}

/** A user, a group, its Orchestrator and the given agents. */
export async function seedGroup(
  pool: pg.Pool,
  opts: { orchestrator?: Partial<AgentRow>; agents?: Partial<AgentRow>[] } = {},
): Promise<SeededGroup> {
  const email = `u-${randomUUID().slice(0, 8)}@example.com`;
  const userId = await insertUser(pool, email);
  const groupId = await insertGroup(pool, { ownerId: userId });
  const [orchestrator, ...agents] = await insertAgents(pool, groupId, [
    {
      ...opts.orchestrator,
      alias: opts.orchestrator?.alias ?? "Orchestrator",
      temperature: opts.orchestrator?.temperature ?? 0.5,
      is_orchestrator: true,
    },
    ...(opts.agents ?? []).map((a) => ({
      ...a,
      alias: a.alias ?? "Agent",
      role_prompt: a.role_prompt ?? "You help.",
      temperature: a.temperature ?? 0.5,
      is_orchestrator: false,
    })),
  ]);
  return { groupId, userId, email, orchestrator: orchestrator!, agents };
}

/** Stores a message (defaults: a person's message in the group). */
export async function addMessage(pool: pg.Pool, g: SeededGroup, m: Partial<NewMessage>): Promise<Message> {
  const { message } = await insertMessage(pool, {
    id: randomUUID(),
    group_id: g.groupId,
    turn_id: null,
    sender_type: "user",
    sender_alias: g.email,
    sender_user_id: m.sender_type && m.sender_type !== "user" ? null : g.userId,
    content: "hello",
    ...m,
  });
  return message;
}

/** A turn row for a message of the group: `running` or `queued`, or ended with `reason`. */
export async function addTurn(
  pool: pg.Pool,
  g: Pick<SeededGroup, "groupId">,
  message: { id: string; seq: number },
  turn: { id?: string; status: "queued" | "running" } | { id?: string; reason: string },
): Promise<string> {
  const id = turn.id ?? randomUUID();
  const ended = "reason" in turn;
  await pool.query(
    `insert into turns (id, group_id, message_id, message_seq, status, reason, ended_at)
     values ($1, $2, $3, $4, $5, $6, case when $6::text is null then null else now() end)`,
    [id, g.groupId, message.id, message.seq, ended ? "ended" : turn.status, ended ? turn.reason : null],
  );
  return id;
}

/** What every execution job of `agent` carries. */
function jobBase(g: SeededGroup, agent: AgentRow, turnId: string) {
  return {
    group_id: g.groupId,
    turn_id: turnId,
    dispatch_id: randomUUID(),
    agent_id: agent.id,
    alias: agent.alias,
    message_id: randomUUID(),
  };
}

export function llmJob(
  g: SeededGroup,
  agent: AgentRow,
  untilSeq: number,
  turnId: string = randomUUID(),
): LlmJob {
  return { ...jobBase(g, agent, turnId), until_seq: untilSeq };
}

export function toolJob(
  g: SeededGroup,
  agent: AgentRow,
  name: string,
  args: Record<string, unknown>,
  turnId: string = randomUUID(),
): ToolJob {
  return {
    ...jobBase(g, agent, turnId),
    tool_call: { id: `call_${randomUUID().slice(0, 8)}`, name, args },
  };
}

/** An execution worker started by {@link startWorkerUnderTest}, and a driver for its queues. */
export interface WorkerUnderTest {
  driver: QueueDriver;
  /** `config.QUEUE_PREFIX`: the worker's queues and channels */
  prefix: string;
  close(): Promise<void>;
}

/** Starts an execution worker in this process on `config` (its own queue prefix), with a driver. */
export async function startWorkerUnderTest(
  pool: pg.Pool,
  config: Config,
  opts: Omit<ExecutionWorkerDeps, "config" | "pool" | "connections"> = {},
): Promise<WorkerUnderTest> {
  const connections = connectWorkerRedis(config.REDIS_URL!);
  const worker = await startExecutionWorker({ config, pool, connections, ...opts });
  const driver = new QueueDriver(config.REDIS_URL!, config.QUEUE_PREFIX);
  return {
    driver,
    prefix: config.QUEUE_PREFIX,
    async close() {
      await worker.close();
      await connections.close();
      await driver.close();
    },
  };
}

/** Adds jobs to the execution queue and reads results from the orchestrator queue, as the orchestrator would. */
export class QueueDriver {
  readonly exec: Queue;
  readonly results: Queue;
  private readonly conn: Redis;
  constructor(redisUrl: string, prefix: string) {
    const conn = createRedis(redisUrl, { bullmq: true });
    this.conn = conn;
    this.exec = new Queue(EXECUTION_QUEUE, { connection: conn, prefix });
    this.results = new Queue(ORCHESTRATOR_QUEUE, { connection: conn, prefix });
  }
  addLlm(job: LlmJob) {
    return this.exec.add("llm", job, { jobId: jobIds.llm(job.dispatch_id), attempts: 3 });
  }
  addTool(job: ToolJob) {
    return this.exec.add("tool", job, { jobId: jobIds.tool(job.dispatch_id), attempts: 3 });
  }
  /** The `result` job of a dispatch, once it exists. */
  async result(dispatchId: string, timeoutMs = 10_000): Promise<ResultJob> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const job = await this.results.getJob(jobIds.result(dispatchId));
      if (job) return job.data as ResultJob;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no result for dispatch ${dispatchId} after ${timeoutMs} ms`);
  }
  /** Waits until the execution job of a dispatch is completed (or failed); returns its state. */
  async settled(kind: "llm" | "tool", dispatchId: string, timeoutMs = 10_000): Promise<string> {
    const id = jobIds[kind](dispatchId);
    const until = Date.now() + timeoutMs;
    let state = "missing";
    while (Date.now() < until) {
      const job = await this.exec.getJob(id);
      state = job ? await job.getState() : "missing";
      if (state === "completed" || state === "failed") return state;
      await new Promise((r) => setTimeout(r, 20));
    }
    return state;
  }
  async hasResult(dispatchId: string): Promise<boolean> {
    return (await this.results.getJob(jobIds.result(dispatchId))) !== undefined;
  }
  async close() {
    await this.exec.close();
    await this.results.close();
    this.conn.disconnect();
  }
}

/**
 * Every frame published on a group's channel while subscribed. `close()` first waits for a round
 * trip on the subscription, so that every frame Redis sent before it has been read (a frame
 * published before a result the test saw may still be unread on this connection).
 */
export async function collectFrames(
  redisUrl: string,
  prefix: string,
  groupId: string,
): Promise<{ frames: GroupFrame[]; close(): Promise<void> }> {
  const sub = createRedis(redisUrl);
  const frames: GroupFrame[] = [];
  sub.on("message", (_c, raw) => frames.push(JSON.parse(raw) as GroupFrame));
  await sub.subscribe(groupChannel(prefix, groupId));
  return {
    frames,
    async close() {
      await sub.ping().catch(() => undefined);
      sub.disconnect();
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
