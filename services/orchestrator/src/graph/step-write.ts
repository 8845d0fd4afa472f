import {
  MESSAGE_COLUMNS,
  type Message,
  type MessageRow,
  readTurnStatus,
  type TurnChange,
  type TurnChanged,
  toMessage,
  turnTransition,
  turnUpdate,
} from "@synapse/shared";
import type pg from "pg";
import type { OutMessage } from "./state.ts";

/** What a step's write did. */
export interface StepWritten {
  /** Every message of the step, by id: the new ones and those an earlier attempt stored. */
  stored: Map<string, Message>;
  /** The group's last seq once the step's messages are in. */
  untilSeq: number;
  /** What changed in the turn's row (undefined: nothing, e.g. a retried step). */
  changed: Omit<TurnChanged, "group_id"> | undefined;
}

/**
 * The faster form of a step's writes: the turn's status, then one statement storing the step's
 * messages and applying the turn's transition, where the plain form (shared `storeMessages` and
 * `changeTurn` in a transaction) takes seven round trips. Every turn step makes this write, and the
 * plain form cost the turn bench more than its guard allows (docs/benchmarks.md, "Data path").
 *
 * It keeps the plain form's rules and owners: seqs come from `take_group_seqs`, the transition is
 * decided by `turnTransition`, the update is built by `turnUpdate`. The status is read without a
 * row lock: the step holds its group's lock, under which every change of a turn's status is made.
 * One statement, so atomic; its parts read the snapshot taken before it, so the results of the
 * inserts are combined with what existed before in SQL. The turn row is updated after the inserts
 * (`count(*) from ins`): locks are taken in the order group row → turn row, as a group deletion does.
 */
export async function writeStep(
  pool: pg.Pool,
  groupId: string,
  turnId: string,
  messages: OutMessage[],
  change: TurnChange,
): Promise<StepWritten> {
  const status = await readTurnStatus(pool, turnId);
  const t = status && turnTransition(status, change);
  const input = JSON.stringify(
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
  );
  const update =
    t && turnUpdate(t, change, [turnId, groupId, input], { startSeq: { sql: "(select seq from b)" } });
  const { rows } = await pool.query<MessageRow & StepOutcome>({
    name: `synapse_write_step_${update?.variant ?? "none"}`,
    text: `with input as (
    select u.* from jsonb_to_recordset($3::jsonb) as u(
      ord int, id uuid, sender_type text, sender_alias text, content text, tool_calls jsonb, tool_call_id text, meta jsonb)
  ),
  fresh as (
    select i.*, row_number() over (order by i.ord) as n from input i
     where not exists (select 1 from messages x where x.id = i.id)
  ),
  s as (select take_group_seqs($2, (select count(*) from fresh)::int) as last_seq where exists (select 1 from fresh)),
  b as (select coalesce((select last_seq from s) - (select count(*) from fresh), (select last_seq from groups where id = $2)) as seq),
  ins as (
    insert into messages (id, group_id, seq, turn_id, sender_type, sender_alias, content, tool_calls, tool_call_id, meta)
    select f.id, $2, s.last_seq - (select count(*) from fresh) + f.n, $1, f.sender_type, f.sender_alias,
           f.content, nullif(f.tool_calls, 'null'::jsonb), f.tool_call_id, nullif(f.meta, 'null'::jsonb)
      from fresh f cross join s
    returning ${MESSAGE_COLUMNS}
  ),
  t as (${
    update
      ? `update turns set ${update.set} where id = $1 and (select count(*) from ins) >= 0
    returning steps, extract(epoch from ended_at - started_at)::float8 as ran_s`
      : "select null::int as steps, null::float8 as ran_s where false"
  }),
  msgs as (
    select ${MESSAGE_COLUMNS} from ins
    union all
    select ${MESSAGE_COLUMNS} from messages where id in (select id from input)
  )
  select coalesce((select last_seq from s), (select seq from b), 0) as until_seq,
         (select count(*) from t) as turn_changed, (select steps from t) as turn_steps, (select ran_s from t) as ran_s,
         msgs.*
    from (values (1)) as one(x) left join msgs on true`,
    values: update?.values ?? [turnId, groupId, input],
  });
  const stored = new Map<string, Message>();
  for (const row of rows) if (row.id) stored.set(row.id, toMessage(row));
  const first = rows[0];
  const changed =
    t && Number(first?.turn_changed ?? 0) > 0
      ? {
          started: t.starts,
          ended: t.ends,
          steps: Number(first?.turn_steps ?? 0),
          ran_s: first?.ran_s ?? null,
        }
      : undefined;
  return { stored, untilSeq: Number(first?.until_seq ?? 0), changed };
}

/** What the step's statement says besides the messages. */
interface StepOutcome {
  until_seq: string | number;
  turn_changed: string | number;
  turn_steps: number | null;
  ran_s: number | null;
}
