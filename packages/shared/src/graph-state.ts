import type pg from "pg";

/*
 * The checkpoint tables of the turn graphs (migration `0001_turn_checkpoints`): every statement on
 * them is built here, for the orchestrator's checkpoint saver and for the deletion of a group.
 * Every table is keyed by `thread_id`, and a thread is one turn.
 */

/** What {@link checkpointStatements}' `list` selects by; each given one narrows it. */
export interface CheckpointFilter {
  thread_id?: unknown;
  checkpoint_ns?: string;
  checkpoint_id?: string;
  /** Only checkpoints older than this one. */
  before?: string;
  limit?: number;
}

/** The statements on the checkpoint tables of `schema`, and the names node-postgres prepares them under. */
export function checkpointStatements(schema = "public") {
  const q = (t: string) => `"${schema.replaceAll('"', '""')}".${t}`;
  const [cps, blobs, writes] = [q("graph_checkpoints"), q("graph_blobs"), q("graph_writes")];
  // a checkpoint with the channel values it names and its pending writes, as arrays
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
  const writeCols = `insert into ${writes} (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, blob)
    select $1, $2, $3, $4, $5, u.idx, u.channel, u.type, u.blob
      from unnest($6::int[], $7::text[], $8::text[], $9::bytea[]) as u(idx, channel, type, blob)
    on conflict (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)`;
  // node-postgres prepares named statements per connection; the schema keeps two savers on one pool apart
  const tag = `synapse_cp_${schema}`;
  return {
    /** Checkpoints matching what is given, newest first, as a parameterised query. */
    list(by: CheckpointFilter): { text: string; values: unknown[] } {
      const values: unknown[] = [];
      const where: string[] = [];
      const add = (condition: string, value: unknown) => {
        values.push(value);
        where.push(`${condition} $${values.length}`);
      };
      if (by.thread_id !== undefined) add("c.thread_id =", String(by.thread_id));
      if (by.checkpoint_ns !== undefined) add("c.checkpoint_ns =", by.checkpoint_ns);
      if (by.checkpoint_id !== undefined) add("c.checkpoint_id =", by.checkpoint_id);
      if (by.before !== undefined) add("c.checkpoint_id <", by.before);
      let text = `${select}${where.length > 0 ? ` where ${where.join(" and ")}` : ""} order by c.checkpoint_id desc`;
      if (by.limit !== undefined) {
        values.push(Math.max(0, Math.floor(by.limit)));
        text += ` limit $${values.length}`;
      }
      return { text, values };
    },
    getLatest: `${select} where c.thread_id = $1 and c.checkpoint_ns = $2 order by c.checkpoint_id desc limit 1`,
    getById: `${select} where c.thread_id = $1 and c.checkpoint_ns = $2 and c.checkpoint_id = $3`,
    /** The checkpoint and the channel values that changed (`$10…$13`, arrays), in one statement. */
    put: `with b as (
    insert into ${blobs} (thread_id, checkpoint_ns, channel, version, type, blob)
    select $1, $2, u.channel, u.version, u.type, u.blob
      from unnest($10::text[], $11::text[], $12::text[], $13::bytea[]) as u(channel, version, type, blob)
    on conflict do nothing)
  insert into ${cps} (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, versions, metadata_type, metadata)
  values ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9)
  on conflict (thread_id, checkpoint_ns, checkpoint_id) do update
    set type = excluded.type, checkpoint = excluded.checkpoint, versions = excluded.versions,
        metadata_type = excluded.metadata_type, metadata = excluded.metadata`,
    insertWrites: `${writeCols} do nothing`,
    upsertWrites: `${writeCols} do update set channel = excluded.channel, type = excluded.type, blob = excluded.blob, task_path = excluded.task_path`,
    deleteThreads: `with w as (delete from ${writes} where thread_id = any($1::text[])),
      b as (delete from ${blobs} where thread_id = any($1::text[]))
      delete from ${cps} where thread_id = any($1::text[])`,
    pendingSends: `select type, blob from ${writes}
      where thread_id = $1 and checkpoint_ns = $2 and checkpoint_id = $3 and channel = $4
      order by task_path, task_id, idx`,
    listThreads: `select distinct thread_id from ${cps} where thread_id > $2 order by thread_id limit $1`,
    names: {
      getLatest: `${tag}_get_latest`,
      getById: `${tag}_get_by_id`,
      put: `${tag}_put`,
      insertWrites: `${tag}_insert_writes`,
      upsertWrites: `${tag}_upsert_writes`,
      deleteThreads: `${tag}_delete_threads`,
    },
  };
}

const PUBLIC = checkpointStatements();

/**
 * Deletes the checkpoint state of the given turns (one graph thread per turn), in one statement, so
 * it can run inside the caller's transaction (a step under the group lock, a group's deletion).
 */
export async function deleteGraphState(
  db: pg.Pool | pg.PoolClient,
  turnIds: string[],
  statements: ReturnType<typeof checkpointStatements> = PUBLIC,
): Promise<void> {
  if (turnIds.length === 0) return;
  await db.query({ name: statements.names.deleteThreads, text: statements.deleteThreads, values: [turnIds] });
}

/** Up to `limit` threads that have checkpoint state, in order, after the thread `after`. */
export async function listGraphThreads(
  db: pg.Pool | pg.PoolClient,
  limit: number,
  after = "",
  statements: ReturnType<typeof checkpointStatements> = PUBLIC,
): Promise<string[]> {
  const { rows } = await db.query<{ thread_id: string }>(statements.listThreads, [limit, after]);
  return rows.map((r) => r.thread_id);
}
