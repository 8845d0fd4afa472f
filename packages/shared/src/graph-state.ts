import type pg from "pg";

/**
 * The tables of the orchestrator's checkpointer (`TurnCheckpointSaver`, migration
 * `0001_turn_checkpoints`), schema "public": every table is keyed by `thread_id`, and a thread is one turn.
 */
export const TURN_CHECKPOINT_TABLES = ["graph_writes", "graph_blobs", "graph_checkpoints"] as const;

/** The tables of `@langchain/langgraph-checkpoint-postgres` (created by its `setup()`), where a `PostgresSaver` is used. */
export const POSTGRES_SAVER_TABLES = ["checkpoint_writes", "checkpoint_blobs", "checkpoints"] as const;

/** Every table that can hold a turn's graph state. */
export const GRAPH_STATE_TABLES = [...TURN_CHECKPOINT_TABLES, ...POSTGRES_SAVER_TABLES] as const;

export type GraphStateTable = (typeof GRAPH_STATE_TABLES)[number];

/**
 * Deletes the LangGraph checkpoint state of the given turns (one graph thread per turn), in one
 * statement, so it can run inside the caller's transaction (group deletion).
 *
 * By default it first looks up which of {@link GRAPH_STATE_TABLES} exist (a database not yet
 * migrated, or where no `PostgresSaver` ever ran), rather than letting a failed statement abort the
 * caller's transaction. Pass `tables` to delete from exactly these, known to exist, in one statement.
 */
export async function deleteGraphState(
  db: pg.Pool | pg.PoolClient,
  turnIds: string[],
  opts: { tables?: readonly GraphStateTable[] } = {},
): Promise<void> {
  if (turnIds.length === 0) return;
  let tables: readonly string[] | undefined = opts.tables;
  if (!tables) {
    const { rows } = await db.query<{ name: string }>(
      "select t as name from unnest($1::text[]) with ordinality u(t, i) where to_regclass('public.' || t) is not null order by i",
      [GRAPH_STATE_TABLES],
    );
    tables = rows.map((r) => r.name);
  }
  const [last, ...first] = [...tables].reverse();
  if (last === undefined) return;
  const ctes = first.map((t, i) => `d${i} as (delete from public.${t} where thread_id = any($1::text[]))`);
  await db.query(
    `${ctes.length > 0 ? `with ${ctes.join(", ")} ` : ""}delete from public.${last} where thread_id = any($1::text[])`,
    [turnIds],
  );
}
