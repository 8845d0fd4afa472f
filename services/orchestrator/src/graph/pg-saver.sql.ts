/**
 * The SQL of the TurnCheckpointSaver: one statement per saver call, and the inlining of values for
 * the checkpoint write that travels with the group lock's commit (a multi-statement string).
 */

/** A string as an SQL literal (as pg's `escapeLiteral`: with backslashes, an E'' string). */
export function literal(s: string): string {
  if (s.includes("\0")) throw new TypeError("NUL in an SQL literal");
  const quoted = s.replaceAll("'", "''");
  return s.includes("\\") ? ` E'${quoted.replaceAll("\\", "\\\\")}'` : `'${quoted}'`;
}

/** A value as an SQL literal: strings, numbers, null, bytes (bytea), arrays of these. */
function literalOf(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return literal(v);
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (v instanceof Uint8Array)
    return `decode('${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex")}', 'hex')`;
  if (Array.isArray(v)) return `array[${v.map(literalOf).join(", ")}]`;
  throw new TypeError(`no SQL literal for ${typeof v}`);
}

/** A parameterised statement with its values inlined ($n not followed by a digit; none in literals). */
export function inline(text: string, values: unknown[]): string {
  return text.replace(/\$(\d+)/g, (_, n: string) => literalOf(values[Number(n) - 1]));
}

/** The saver's SQL for its tables in `schema`, and the names of its prepared statements. */
export function statements(schema: string) {
  const q = (t: string) => `"${schema.replaceAll('"', '""')}".${t}`;
  const [cps, blobs, writes] = [q("graph_checkpoints"), q("graph_blobs"), q("graph_writes")];
  const select = `select c.thread_id, c.checkpoint_ns, c.checkpoint_id, c.parent_checkpoint_id, c.type, c.checkpoint,
       c.metadata_type, c.metadata, b.b_channels, b.b_types, b.b_blobs, w.w_tasks, w.w_channels, w.w_types, w.w_blobs
  from ${cps} c
  cross join lateral (
    select array_agg(bl.channel) as b_channels, array_agg(bl.type) as b_types, array_agg(bl.blob) as b_blobs
      from jsonb_each_text(c.versions) v
      join ${blobs} bl on bl.thread_id = c.thread_id and bl.checkpoint_ns = c.checkpoint_ns
                      and bl.channel = v.key and bl.version = v.value
     where bl.type <> 'empty') b
  cross join lateral (
    select array_agg(wr.task_id order by wr.task_path, wr.task_id, wr.idx) as w_tasks,
           array_agg(wr.channel order by wr.task_path, wr.task_id, wr.idx) as w_channels,
           array_agg(wr.type order by wr.task_path, wr.task_id, wr.idx) as w_types,
           array_agg(wr.blob order by wr.task_path, wr.task_id, wr.idx) as w_blobs
      from ${writes} wr
     where wr.thread_id = c.thread_id and wr.checkpoint_ns = c.checkpoint_ns and wr.checkpoint_id = c.checkpoint_id) w`;
  const insert = `with b as (
    insert into ${blobs} (thread_id, checkpoint_ns, channel, version, type, blob)
    select $1, $2, u.channel, u.version, u.type, u.blob
      from unnest($10::text[], $11::text[], $12::text[], $13::bytea[]) as u(channel, version, type, blob)
    on conflict do nothing),
  c as (
    insert into ${cps} (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, versions, metadata_type, metadata)
    values ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9)
    on conflict (thread_id, checkpoint_ns, checkpoint_id) do update
      set type = excluded.type, checkpoint = excluded.checkpoint, versions = excluded.versions,
          metadata_type = excluded.metadata_type, metadata = excluded.metadata)`;
  // One snapshot for the whole statement: the deletes see neither the rows inserted above nor each
  // other's effects. Kept: the parent and everything after it, and every value they or the new
  // checkpoint name.
  const prune = `,
  o as (delete from ${cps} where thread_id = $1 and checkpoint_ns = $2 and checkpoint_id < $4),
  ow as (delete from ${writes} where thread_id = $1 and checkpoint_ns = $2 and checkpoint_id < $4)
  delete from ${blobs} bl
   where bl.thread_id = $1 and bl.checkpoint_ns = $2
     and not exists (select 1 from jsonb_each_text($7::jsonb) v where v.key = bl.channel and v.value = bl.version)
     and not exists (
       select 1 from ${cps} k cross join lateral jsonb_each_text(k.versions) v
        where k.thread_id = $1 and k.checkpoint_ns = $2 and k.checkpoint_id >= $4
          and v.key = bl.channel and v.value = bl.version)`;
  const writeCols = `insert into ${writes} (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, blob)
    select $1, $2, $3, $4, $5, u.idx, u.channel, u.type, u.blob
      from unnest($6::int[], $7::text[], $8::text[], $9::bytea[]) as u(idx, channel, type, blob)
    on conflict (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)`;
  // prepared-statement names are per connection; the schema keeps two savers on one pool apart
  const tag = `synapse_cp_${schema}`;
  return {
    select,
    getLatest: `${select} where c.thread_id = $1 and c.checkpoint_ns = $2 order by c.checkpoint_id desc limit 1`,
    getById: `${select} where c.thread_id = $1 and c.checkpoint_ns = $2 and c.checkpoint_id = $3`,
    put: `${insert} select 1`,
    putPrune: `${insert}${prune}`,
    insertWrites: `${writeCols} do nothing`,
    upsertWrites: `${writeCols} do update set channel = excluded.channel, type = excluded.type, blob = excluded.blob, task_path = excluded.task_path`,
    pendingSends: `select type, blob from ${writes}
      where thread_id = $1 and checkpoint_ns = $2 and checkpoint_id = $3 and channel = $4
      order by task_path, task_id, idx`,
    deleteThreads: `with w as (delete from ${writes} where thread_id = any($1::text[])),
      b as (delete from ${blobs} where thread_id = any($1::text[]))
      delete from ${cps} where thread_id = any($1::text[])`,
    collect: `with gone as (
        select distinct c.thread_id from ${cps} c
         where not exists (
           select 1 from turns t
            where t.id = case when c.thread_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                              then c.thread_id::uuid end
              and t.status <> 'ended')
         limit $1),
      w as (delete from ${writes} where thread_id in (select thread_id from gone)),
      b as (delete from ${blobs} where thread_id in (select thread_id from gone))
      delete from ${cps} where thread_id in (select thread_id from gone)`,
    names: {
      getLatest: `${tag}_get_latest`,
      getById: `${tag}_get_by_id`,
      put: `${tag}_put`,
      putPrune: `${tag}_put_prune`,
      insertWrites: `${tag}_insert_writes`,
      upsertWrites: `${tag}_upsert_writes`,
      deleteThreads: `${tag}_delete_threads`,
    },
  };
}
