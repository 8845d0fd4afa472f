import {
  type GroupFrame,
  jobIds,
  type LlmJob,
  type Message,
  publishFrame,
  type ToolJob,
  type TurnChange,
} from "@synapse/shared";
import { recordTurnEnded, turnsStarted } from "@synapse/shared/telemetry/metrics";
import { type TraceCarrier, traceCarrier } from "@synapse/shared/telemetry/tracing";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type pg from "pg";
import type { Dispatch, Effect, OutMessage, TurnState } from "./state.ts";
import { writeStep } from "./step-write.ts";

/** What carrying out effects needs. */
export interface EffectDeps {
  pool: pg.Pool;
  /**
   * Redis for the step's frames: the connection `executionQueue` uses, so that a step's frames reach
   * Redis before its jobs (one connection keeps commands in order) without waiting for their replies.
   * It should fail fast while Redis is away (`createProducer`), so that a step holding the group lock
   * fails and is retried rather than waiting.
   */
  redis: Redis;
  prefix: string;
  executionQueue: Queue;
}

/**
 * Carries out a step's effects in two phases:
 * 1. every database write, committed before anything is announced (`writeAll`);
 * 2. after the commit, in effect order, what announces them: frames, then execution jobs (which
 *    may only run once the messages of their context are committed).
 * The checkpoint is written after both (by the graph, at exit), so a step that dies anywhere is
 * retried from the previous state and decides the same effects again. Every write is idempotent: messages
 * have ids chosen by the router (each is stored once), jobs have deterministic ids, the turn row
 * gets absolute values.
 */
export async function applyEffects(deps: EffectDeps, turn: TurnState, effects: Effect[]): Promise<void> {
  const { stored, untilSeq } = await writeAll(deps.pool, turn, effects);
  // frames are sent without waiting for their replies, jobs right after them on the same connection:
  // Redis takes them in that order (a job's tokens never come before its agent.started)
  const frames = new Frames(deps.redis, deps.prefix, turn.group_id);
  for (const effect of effects) await announce(deps, frames, turn, effect, stored, untilSeq);
  await frames.sent();
}

/** The frames of one step, published in order (on the connection of the step's jobs), awaited together. */
class Frames {
  #inflight: Promise<unknown>[] = [];

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly groupId: string,
  ) {}

  publish(frame: GroupFrame): void {
    const sent = publishFrame(this.redis, this.prefix, this.groupId, frame);
    // a failure is reported by sent(); until then it must not count as unhandled
    sent.catch(() => undefined);
    this.#inflight.push(sent);
  }

  /** Resolves once every frame published so far is with Redis (rejects if one failed). */
  async sent(): Promise<void> {
    const inflight = this.#inflight;
    this.#inflight = [];
    await Promise.all(inflight);
  }
}

/**
 * The step's writes (`writeStep`, one atomic statement after a read), in effect order:
 * - its messages (`store`, an `end` notice), with the group's next seqs: one whose id exists is
 *   not stored again (the existing row is returned);
 * - then its turn's row, as the turn state machine decides (`turnTransition`): `begin` starts it
 *   (`start_seq`: the group's last seq before this step, after which every call places the turn's
 *   message), `progress` records steps and usage, `end` ends it unless an earlier attempt of this
 *   very step did (its `turn.ended` is announced again). Messages first: locks are taken in the
 *   order group row → turn row, as a group deletion does;
 * - and the context bound of a `dispatch`: the group's last seq once the step's messages are in
 *   (agents dispatched together don't see each other's answers, and a retried call sees what the
 *   first attempt saw; messages people posted meanwhile each begin a later, queued turn, and the
 *   context read leaves those out instead of answering them twice).
 */
async function writeAll(pool: pg.Pool, turn: TurnState, effects: Effect[]) {
  const messages: OutMessage[] = [];
  const change: TurnChange = {};
  for (const effect of effects) {
    if (effect.type === "store") messages.push(effect.message);
    else if (effect.type === "end") {
      if (effect.notice) messages.push(effect.notice);
      change.end ??= effect.reason;
    } else if (effect.type === "begin") change.begin = true;
    else if (effect.type === "progress") change.progress = { steps: effect.steps, usage: effect.usage };
  }
  const { stored, untilSeq, changed } = await writeStep(pool, turn.group_id, turn.turn_id, messages, change);
  // counted once committed: a retried step changes nothing
  if (changed?.started) turnsStarted.inc();
  if (changed?.ended && change.end) recordTurnEnded(change.end, changed.steps, changed.ran_s);
  return { stored, untilSeq };
}

async function announce(
  deps: EffectDeps,
  frames: Frames,
  turn: TurnState,
  effect: Effect,
  stored: Map<string, Message>,
  untilSeq: number,
): Promise<void> {
  const ids = { group_id: turn.group_id, turn_id: turn.turn_id };
  const publishMessage = (message: Message | undefined) => {
    if (message) frames.publish({ type: "message", message });
  };
  switch (effect.type) {
    case "begin":
      frames.publish({ type: "turn.started", ...ids, message_id: effect.message_id });
      return;
    case "store":
      publishMessage(stored.get(effect.message.id));
      return;
    case "agent.finished":
      frames.publish({ type: "agent.finished", ...ids, alias: effect.alias });
      return;
    case "dispatch": {
      for (const call of effect.calls)
        if (call.kind === "llm") frames.publish({ type: "agent.started", ...ids, alias: call.alias });
      // the step's span (turn-runner.ts runs the graph in it): each call's span is its child
      const trace = traceCarrier();
      if (effect.calls.length === 1) {
        // one job: a plain add (addBulk wraps even one job in MULTI/EXEC)
        const job = executionJob(turn, effect.calls[0]!, untilSeq, trace);
        await deps.executionQueue.add(job.name, job.data, job.opts);
      } else
        await deps.executionQueue.addBulk(
          effect.calls.map((call) => executionJob(turn, call, untilSeq, trace)),
        );
      return;
    }
    case "progress":
      return;
    case "end":
      if (effect.notice) publishMessage(stored.get(effect.notice.id));
      frames.publish({ type: "turn.ended", ...ids, reason: effect.reason });
      return;
  }
}

function executionJob(turn: TurnState, call: Dispatch, untilSeq: number, trace: TraceCarrier | undefined) {
  const base = {
    group_id: turn.group_id,
    turn_id: turn.turn_id,
    dispatch_id: call.dispatch_id,
    agent_id: call.agent_id,
    alias: call.alias,
    message_id: call.dispatch_id,
    // only when tracing: job data stays as it was otherwise
    ...(trace && { trace }),
  };
  if (call.kind === "llm")
    return {
      name: "llm",
      data: { ...base, until_seq: untilSeq } satisfies LlmJob,
      opts: { jobId: jobIds.llm(call.dispatch_id) },
    };
  return {
    name: "tool",
    data: { ...base, tool_call: call.tool_call } satisfies ToolJob,
    opts: { jobId: jobIds.tool(call.dispatch_id) },
  };
}
