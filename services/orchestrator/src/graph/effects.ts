import {
  type GroupFrame,
  jobIds,
  type LlmJob,
  MESSAGE_COLUMNS,
  type Message,
  type MessageRow,
  publishFrame,
  type ToolJob,
  toMessage,
} from "@synapse/shared";
import { recordTurnEnded, turnsStarted } from "@synapse/shared/telemetry/metrics";
import { type TraceCarrier, traceCarrier } from "@synapse/shared/telemetry/tracing";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type pg from "pg";
import type { Dispatch, Effect, OutMessage, TurnState } from "./state.ts";

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
  /** Test hook: runs after each effect's announcement (fault injection between side effects and the checkpoint). */
  afterEffect?: (effect: Effect, turn: TurnState) => void | Promise<void>;
  /** Test hook: runs before the step's writes commit (fault injection: the step fails having changed nothing). */
  beforeCommit?: (effects: Effect[], turn: TurnState) => void | Promise<void>;
}

/**
 * Carries out a step's effects in two phases:
 * 1. every database write in one statement, so one commit and one round trip per step (message
 *    inserts, then the turn row: the turn row's update waits for the inserts, so locks are taken in
 *    the order group row → turn row, as a group deletion does);
 * 2. after the commit, in effect order, what announces them: frames, then execution jobs (which
 *    may only run once the messages of their context are committed).
 * The checkpoint is written after both (by the graph, at exit), so a step that dies anywhere is
 * retried from the previous state and decides the same effects again. Every write is idempotent: messages
 * have ids chosen by the router (each is stored once), jobs have deterministic ids, the turn row
 * gets absolute values.
 */
export async function applyEffects(deps: EffectDeps, turn: TurnState, effects: Effect[]): Promise<void> {
  await deps.beforeCommit?.(effects, turn);
  const { stored, untilSeq } = await writeAll(deps.pool, turn, effects);
  // frames are sent without waiting for their replies, jobs right after them on the same connection:
  // Redis takes them in that order (a job's tokens never come before its agent.started)
  const frames = new Frames(deps.redis, deps.prefix, turn.group_id);
  for (const effect of effects) {
    await announce(deps, frames, turn, effect, stored, untilSeq);
    if (deps.afterEffect) {
      await frames.sent();
      await deps.afterEffect(effect, turn);
    }
  }
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
 * The step's writes as one statement, with the semantics of running, in effect order:
 * - `insertMessage` for each message (`store`, an `end` notice): a message whose id exists is not
 *   stored again (the existing row is returned); new ones take the group's next seqs, in order;
 * - `begin`: queued → running (`started_at`, and `start_seq`: the group's last seq before this
 *   step, after which every call places the turn's message);
 * - `progress`: steps and usage, if the turn is running (by then);
 * - `end`: → ended with its reason, unless ended already (an earlier attempt of this very step
 *   ended it: its `turn.ended` is announced again);
 * - the context bound of a `dispatch`: the group's last seq once the step's messages are in (agents
 *   dispatched together don't see each other's answers, and a retried call sees what the first
 *   attempt saw; messages people posted meanwhile each begin a later, queued turn, and the context
 *   read leaves those out instead of answering them twice).
 * Every statement of one step reads the snapshot taken before it, so the results of the inserts
 * are combined with what existed before in SQL.
 */
const WRITE_STEP = `with input as (
    select u.* from jsonb_to_recordset($3::jsonb) as u(
      ord int, id uuid, sender_type text, sender_alias text, content text, tool_calls jsonb, tool_call_id text, meta jsonb)
  ),
  fresh as (
    select i.*, row_number() over (order by i.ord) as n from input i
     where not exists (select 1 from messages x where x.id = i.id)
  ),
  s as (
    update groups set last_seq = last_seq + (select count(*) from fresh)
     where id = $2 and exists (select 1 from fresh)
     returning last_seq
  ),
  ins as (
    insert into messages (id, group_id, seq, turn_id, sender_type, sender_alias, sender_user_id,
                          content, tool_calls, tool_call_id, meta, idempotency_key)
    select f.id, $2, s.last_seq - (select count(*) from fresh) + f.n, $1, f.sender_type, f.sender_alias, null,
           f.content, nullif(f.tool_calls, 'null'::jsonb), f.tool_call_id, nullif(f.meta, 'null'::jsonb), null
      from fresh f cross join s
    returning ${MESSAGE_COLUMNS}
  ),
  t as (
    update turns set
      status = case when $7::text is not null and status <> 'ended' then 'ended'
                    when $4::boolean and status = 'queued' then 'running' else status end,
      started_at = case when $4::boolean and status = 'queued' then now() else started_at end,
      start_seq = case when $4::boolean and status = 'queued'
                       then (select last_seq from groups where id = $2) else start_seq end,
      steps = case when $5::int is not null and (status = 'running' or ($4::boolean and status = 'queued'))
                   then $5::int else steps end,
      usage = case when $5::int is not null and (status = 'running' or ($4::boolean and status = 'queued'))
                   then $6::jsonb else usage end,
      reason = case when $7::text is not null and status <> 'ended' then $7::text else reason end,
      ended_at = case when $7::text is not null and status <> 'ended' then now() else ended_at end,
      updated_at = now()
     where id = $1 and (select count(*) from ins) >= 0
       and (($4::boolean and status = 'queued')
            or ($5::int is not null and status = 'running')
            or ($7::text is not null and status <> 'ended'))
    returning started_at = now() as started_now, ended_at = now() as ended_now, steps,
              extract(epoch from ended_at - started_at)::float8 as ran_s
  ),
  msgs as (
    select ${MESSAGE_COLUMNS} from ins
    union all
    select ${MESSAGE_COLUMNS} from messages where id in (select id from input)
  )
  select coalesce((select last_seq from s), (select last_seq from groups where id = $2), 0) as until_seq,
         (select started_now from t) as started_now, (select ended_now from t) as ended_now,
         (select steps from t) as turn_steps, (select ran_s from t) as ran_s,
         msgs.*
    from (values (1)) as one(x) left join msgs on true`;

async function writeAll(pool: pg.Pool, turn: TurnState, effects: Effect[]) {
  const messages: OutMessage[] = [];
  let begin = false;
  let progress: Extract<Effect, { type: "progress" }> | undefined;
  let end: Extract<Effect, { type: "end" }> | undefined;
  for (const effect of effects) {
    if (effect.type === "store") messages.push(effect.message);
    else if (effect.type === "end") {
      if (effect.notice) messages.push(effect.notice);
      end ??= effect;
    } else if (effect.type === "begin") begin = true;
    else if (effect.type === "progress") progress = effect;
  }
  const { rows } = await pool.query<MessageRow & StepOutcome>({
    name: "synapse_write_step",
    text: WRITE_STEP,
    values: [
      turn.turn_id,
      turn.group_id,
      JSON.stringify(
        messages.map((m, ord) => ({
          ord,
          id: m.id,
          sender_type: m.sender_type,
          sender_alias: m.sender_alias,
          content: m.content,
          tool_calls: m.tool_calls ?? null,
          tool_call_id: m.tool_call_id ?? null,
          meta: m.meta ?? null,
        })),
      ),
      begin,
      progress ? progress.steps : null,
      progress ? JSON.stringify(progress.usage) : null,
      end ? end.reason : null,
    ],
  });
  const stored = new Map<string, Message>();
  for (const row of rows) if (row.id) stored.set(row.id, toMessage(row));
  const untilSeq = Number(rows[0]?.until_seq ?? 0);
  // counted here, where the write that changed the turn commits: a retried step changes nothing
  if (rows[0]?.started_now) turnsStarted.inc();
  if (rows[0]?.ended_now && end) recordTurnEnded(end.reason, Number(rows[0].turn_steps ?? 0), rows[0].ran_s);
  return { stored, untilSeq };
}

/** What the step's statement says of the turn row, besides the messages. */
interface StepOutcome {
  until_seq: string | number;
  started_now: boolean | null;
  ended_now: boolean | null;
  turn_steps: number | null;
  ran_s: number | null;
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
      // the step's span (lifecycle.ts runs the graph in it): each call's span is its child
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
