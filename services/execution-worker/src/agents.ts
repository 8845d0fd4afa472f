import { AGENT_COLUMNS, type AgentRow } from "@synapse/shared";
import type pg from "pg";
import type { ContextRow } from "./context.ts";

export type { AgentRow };

/** What an LLM call reads before it starts. */
export interface CallContext {
  /** All agents of the group, the Orchestrator first (the caller and its team). */
  team: AgentRow[];
  /**
   * The last `limit` messages with seq <= the call's `until_seq`, in the order the call sees them.
   * Messages that began turns still waiting in the queue are left out: they are posted while this
   * turn runs (their seqs interleave with its messages), and the turn they begin will answer them.
   * The message that began a turn is placed where the turn started (after the turn's `start_seq`),
   * every other message at its seq: a message that waited in the queue comes after the turn it
   * waited for, and before its own turn's messages, in every call.
   */
  window: ContextRow[];
  /** The status of the call's turn; null when the turn is gone. */
  turnStatus: string | null;
}

/**
 * One statement (prepared once per connection), so one round trip and one snapshot. The window
 * reads backwards on the (group_id, seq) index: its cost does not grow with the group's history.
 * Only a user message can begin a queued turn; its turn is looked up by id (primary key), in a
 * subquery the planner cannot turn into a join: as `not exists (... t.status = 'queued')` it chose,
 * on young statistics, to scan the partial index of queued turns for every message, whose dead
 * entries (every turn passes through `queued`) grow until a vacuum, and each call with them.
 * A message placed later than its seq (where its turn started) can be among the last `limit` by
 * place without being among the last `limit` by seq: `started` adds the messages of the turns that
 * started within the seqs `recent` covers (on the (group_id, start_seq) index), and the window is
 * the last `limit` of both by place.
 */
const CALL_CONTEXT = `with recent as (
    select m.id, m.seq, m.turn_id, m.sender_type, m.sender_alias, m.sender_user_id, m.content,
           m.tool_calls, m.tool_call_id, m.meta
      from messages m
     where m.group_id = $1 and m.seq <= $3
       and (m.sender_type <> 'user'
            or coalesce((select t.status from turns t where t.id = m.turn_id), '') <> 'queued')
     order by m.seq desc limit $4
  ),
  started as (
    select m.id, m.seq, m.turn_id, m.sender_type, m.sender_alias, m.sender_user_id, m.content,
           m.tool_calls, m.tool_call_id, m.meta
      from turns t join messages m on m.id = t.message_id
     where t.group_id = $1 and t.start_seq <= $3 and t.start_seq >= (select min(seq) from recent)
       and m.seq < (select min(seq) from recent)
  ),
  placed as (
    select c.*, case when c.sender_type = 'user'
                     then coalesce((select t.start_seq + 0.5 from turns t where t.id = c.turn_id), c.seq)
                     else c.seq end as pos
      from (select * from recent union all select * from started) c
     order by pos desc limit $4
  )
  select
    (select status from turns where id = $2) as turn_status,
    coalesce((select json_agg(a order by a.is_orchestrator desc, a.created_at, a.alias)
                from (select ${AGENT_COLUMNS}, created_at from agents where group_id = $1) a), '[]') as team,
    coalesce((select jsonb_agg(to_jsonb(p) - 'pos' order by p.pos, p.seq) from placed p), '[]') as window`;

/** The team, the context window and the turn's status of an LLM call. A turn found ended gets no call. */
export async function loadCallContext(
  db: pg.Pool | pg.PoolClient,
  call: { group_id: string; turn_id: string; until_seq: number },
  limit: number,
): Promise<CallContext> {
  const { rows } = await db.query<{ turn_status: string | null; team: AgentRow[]; window: ContextRow[] }>({
    name: "synapse_call_context",
    text: CALL_CONTEXT,
    values: [call.group_id, call.turn_id, call.until_seq, limit],
  });
  const row = rows[0];
  return { team: row?.team ?? [], window: row?.window ?? [], turnStatus: row?.turn_status ?? null };
}
