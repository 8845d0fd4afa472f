import {
  defaultJobOptions,
  insertMessage,
  inTransaction,
  jobIds,
  type LlmJob,
  type Message,
  publishFrame,
  type ToolJob,
} from "@synapse/shared";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type pg from "pg";
import type { Dispatch, Effect, TurnState } from "./state.ts";

/** What carrying out effects needs. */
export interface EffectDeps {
  pool: pg.Pool;
  redis: Redis;
  prefix: string;
  executionQueue: Queue;
  /** Test hook: runs after each effect's announcement (fault injection between side effects and the checkpoint). */
  afterEffect?: (effect: Effect, turn: TurnState) => void | Promise<void>;
  /** Test hook: runs before the step's writes commit (fault injection: the step fails having changed nothing). */
  beforeCommit?: (effects: Effect[], turn: TurnState) => void | Promise<void>;
}

/**
 * Carries out a step's effects in two phases:
 * 1. every database write in one transaction (one commit per step: message inserts, then the turn
 *    row; inserts first so that locks are taken in the order group row → turn row, as a group
 *    deletion does);
 * 2. after the commit, in effect order, what announces them: frames, then execution jobs (which
 *    may only run once the messages of their context are committed).
 * The checkpoint is written after both (by the graph, at exit), so a step that dies anywhere is
 * retried from the previous state and decides the same effects again. Every write is idempotent: messages
 * have ids chosen by the router (`insertMessage` stores each once), jobs have deterministic ids,
 * the turn row gets absolute values.
 */
export async function applyEffects(deps: EffectDeps, turn: TurnState, effects: Effect[]): Promise<void> {
  const { stored, untilSeq } = await inTransaction(deps.pool, async (client) => {
    const out = await writeAll(client, turn, effects);
    await deps.beforeCommit?.(effects, turn);
    return out;
  });
  for (const effect of effects) {
    await announce(deps, turn, effect, stored, untilSeq);
    await deps.afterEffect?.(effect, turn);
  }
}

async function writeAll(client: pg.PoolClient, turn: TurnState, effects: Effect[]) {
  const stored = new Map<string, Message>();
  for (const effect of effects) {
    const m = effect.type === "store" ? effect.message : effect.type === "end" ? effect.notice : undefined;
    if (!m) continue;
    const { message } = await insertMessage(client, { ...m, group_id: turn.group_id, turn_id: turn.turn_id });
    stored.set(message.id, message);
  }
  let untilSeq = 0;
  for (const effect of effects) {
    switch (effect.type) {
      case "begin":
        await client.query(
          `update turns set status = 'running', started_at = now(), updated_at = now()
            where id = $1 and status = 'queued'`,
          [turn.turn_id],
        );
        break;
      case "dispatch": {
        // Context bound of the calls: the turn's latest stored message. Agents dispatched together
        // don't see each other's answers, and messages people posted meanwhile (each begins a later,
        // queued turn) stay out of this turn's context instead of being answered twice.
        const { rows } = await client.query<{ seq: number }>(
          "select coalesce(max(seq), 0) as seq from messages where group_id = $1 and turn_id = $2",
          [turn.group_id, turn.turn_id],
        );
        untilSeq = rows[0]?.seq ?? 0;
        break;
      }
      case "progress":
        await client.query(
          `update turns set steps = $2, usage = $3::jsonb, updated_at = now()
            where id = $1 and status = 'running'`,
          [turn.turn_id, effect.steps, JSON.stringify(effect.usage)],
        );
        break;
      case "end":
        // the step runs under the group lock and found the turn running: if it is ended already,
        // an earlier attempt of this very step ended it, and its `turn.ended` is announced again
        await client.query(
          `update turns set status = 'ended', reason = $2, ended_at = now(), updated_at = now()
            where id = $1 and status <> 'ended'`,
          [turn.turn_id, effect.reason],
        );
        break;
      case "store":
      case "agent.finished":
        break;
    }
  }
  return { stored, untilSeq };
}

async function announce(
  deps: EffectDeps,
  turn: TurnState,
  effect: Effect,
  stored: Map<string, Message>,
  untilSeq: number,
): Promise<void> {
  const { redis, prefix } = deps;
  const ids = { group_id: turn.group_id, turn_id: turn.turn_id };
  switch (effect.type) {
    case "begin":
      await publishFrame(redis, prefix, turn.group_id, {
        type: "turn.started",
        ...ids,
        message_id: effect.message_id,
      });
      return;
    case "store":
      await publishMessage(deps, turn, stored.get(effect.message.id));
      return;
    case "agent.finished":
      await publishFrame(redis, prefix, turn.group_id, {
        type: "agent.finished",
        ...ids,
        alias: effect.alias,
      });
      return;
    case "dispatch":
      for (const call of effect.calls)
        if (call.kind === "llm")
          await publishFrame(redis, prefix, turn.group_id, {
            type: "agent.started",
            ...ids,
            alias: call.alias,
          });
      await deps.executionQueue.addBulk(effect.calls.map((call) => executionJob(turn, call, untilSeq)));
      return;
    case "progress":
      return;
    case "end":
      if (effect.notice) await publishMessage(deps, turn, stored.get(effect.notice.id));
      await publishFrame(redis, prefix, turn.group_id, { type: "turn.ended", ...ids, reason: effect.reason });
      return;
  }
}

async function publishMessage(
  deps: EffectDeps,
  turn: TurnState,
  message: Message | undefined,
): Promise<void> {
  if (message) await publishFrame(deps.redis, deps.prefix, turn.group_id, { type: "message", message });
}

function executionJob(turn: TurnState, call: Dispatch, untilSeq: number) {
  const base = {
    group_id: turn.group_id,
    turn_id: turn.turn_id,
    dispatch_id: call.dispatch_id,
    agent_id: call.agent_id,
    alias: call.alias,
    message_id: call.dispatch_id,
  };
  if (call.kind === "llm")
    return {
      name: "llm",
      data: { ...base, until_seq: untilSeq } satisfies LlmJob,
      opts: { ...defaultJobOptions, jobId: jobIds.llm(call.dispatch_id) },
    };
  return {
    name: "tool",
    data: { ...base, tool_call: call.tool_call } satisfies ToolJob,
    opts: { ...defaultJobOptions, jobId: jobIds.tool(call.dispatch_id) },
  };
}
