import {
  defaultJobOptions,
  endTurn,
  insertMessage,
  type LlmJob,
  publishFrame,
  type ToolJob,
} from "@synapse/shared";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type pg from "pg";
import { executionJobIds } from "./job-ids.ts";
import type { Effect, OutMessage, TurnState } from "./state.ts";

/** What carrying out effects needs. Writes go through `pool` (autocommit), so a publish that follows one announces committed data. */
export interface EffectDeps {
  pool: pg.Pool;
  redis: Redis;
  prefix: string;
  executionQueue: Queue;
  /** Test hook: runs after each effect (fault injection between side effects and the checkpoint). */
  afterEffect?: (effect: Effect, turn: TurnState) => void | Promise<void>;
}

/**
 * Carries out a step's effects in order. Every one is idempotent: messages have ids chosen by the
 * router (`insertMessage` stores each once), execution jobs have deterministic job ids, progress
 * writes absolute values and `endTurn` ends a turn once; a retry may re-publish a frame, never
 * store anything twice.
 */
export async function applyEffects(deps: EffectDeps, turn: TurnState, effects: Effect[]): Promise<void> {
  for (const effect of effects) {
    await applyEffect(deps, turn, effect);
    await deps.afterEffect?.(effect, turn);
  }
}

async function applyEffect(deps: EffectDeps, turn: TurnState, effect: Effect): Promise<void> {
  const { pool, redis, prefix } = deps;
  switch (effect.type) {
    case "store":
      await storeAndPublish(deps, turn, effect.message);
      return;
    case "agent.finished":
      await publishFrame(redis, prefix, turn.group_id, {
        type: "agent.finished",
        group_id: turn.group_id,
        turn_id: turn.turn_id,
        alias: effect.alias,
      });
      return;
    case "dispatch": {
      // Context bound of the calls: the turn's latest stored message. Agents dispatched together
      // don't see each other's answers, and messages people posted meanwhile (each begins a later,
      // queued turn) stay out of this turn's context instead of being answered twice.
      const { rows } = await pool.query<{ seq: number }>(
        "select coalesce(max(seq), 0) as seq from messages where group_id = $1 and turn_id = $2",
        [turn.group_id, turn.turn_id],
      );
      const untilSeq = rows[0]?.seq ?? 0;
      for (const call of effect.calls)
        if (call.kind === "llm")
          await publishFrame(redis, prefix, turn.group_id, {
            type: "agent.started",
            group_id: turn.group_id,
            turn_id: turn.turn_id,
            alias: call.alias,
          });
      await deps.executionQueue.addBulk(
        effect.calls.map((call) => {
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
              opts: { ...defaultJobOptions, jobId: executionJobIds.llm(call.dispatch_id) },
            };
          return {
            name: "tool",
            data: { ...base, tool_call: call.tool_call } satisfies ToolJob,
            opts: { ...defaultJobOptions, jobId: executionJobIds.tool(call.dispatch_id) },
          };
        }),
      );
      return;
    }
    case "progress":
      await pool.query(
        `update turns set steps = $2, usage = $3::jsonb, updated_at = now()
          where id = $1 and status = 'running'`,
        [turn.turn_id, effect.steps, JSON.stringify(effect.usage)],
      );
      return;
    case "end":
      if (effect.notice) await storeAndPublish(deps, turn, effect.notice);
      await endTurn(pool, redis, prefix, turn.turn_id, effect.reason);
      return;
  }
}

async function storeAndPublish(deps: EffectDeps, turn: TurnState, m: OutMessage): Promise<void> {
  const { message } = await insertMessage(deps.pool, {
    ...m,
    group_id: turn.group_id,
    turn_id: turn.turn_id,
  });
  // published after the autocommitted insert; a retry re-publishes the same seq, which gateways drop
  await publishFrame(deps.redis, deps.prefix, turn.group_id, { type: "message", message });
}
