import type pg from "pg";

/**
 * Where the orchestrator's checkpointer (`@langchain/langgraph-checkpoint-postgres`, schema
 * "public") keeps graph state: every table is keyed by `thread_id`, and a thread is one turn.
 */
export const GRAPH_STATE_TABLES = ["checkpoint_writes", "checkpoint_blobs", "checkpoints"] as const;

/**
 * Deletes the LangGraph checkpoint state of the given turns (one graph thread per turn), in one
 * statement, so it can run inside the caller's transaction (group deletion).
 *
 * Tolerant of the checkpoint tables not existing yet (no orchestrator has run `setup()`): it looks
 * them up first rather than letting a failed statement abort the caller's transaction.
 * Pass `tablesExist: true` when they are known to exist (the orchestrator, after `setup()`).
 */
export async function deleteGraphState(
  db: pg.Pool | pg.PoolClient,
  turnIds: string[],
  opts: { tablesExist?: boolean } = {},
): Promise<void> {
  if (turnIds.length === 0) return;
  let tables: readonly string[] = GRAPH_STATE_TABLES;
  if (!opts.tablesExist) {
    const { rows } = await db.query<{ name: string }>(
      "select t as name from unnest($1::text[]) t where to_regclass('public.' || t) is not null",
      [GRAPH_STATE_TABLES],
    );
    tables = rows.map((r) => r.name);
    if (tables.length === 0) return;
  }
  const [last, ...first] = [...tables].reverse();
  const ctes = first.map((t, i) => `d${i} as (delete from public.${t} where thread_id = any($1::text[]))`);
  await db.query(
    `${ctes.length > 0 ? `with ${ctes.join(", ")} ` : ""}delete from public.${last} where thread_id = any($1::text[])`,
    [turnIds],
  );
}
