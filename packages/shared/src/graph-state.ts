import type pg from "pg";

/**
 * The tables of the orchestrator's checkpointer (`TurnCheckpointSaver`, migration
 * `0001_turn_checkpoints`), schema "public": every table is keyed by `thread_id`, and a thread is one turn.
 */
export const TURN_CHECKPOINT_TABLES = ["graph_writes", "graph_blobs", "graph_checkpoints"] as const;

const DELETE_GRAPH_STATE = `with w as (delete from public.graph_writes where thread_id = any($1::text[])),
  b as (delete from public.graph_blobs where thread_id = any($1::text[]))
  delete from public.graph_checkpoints where thread_id = any($1::text[])`;

/**
 * Deletes the LangGraph checkpoint state of the given turns (one graph thread per turn) from
 * {@link TURN_CHECKPOINT_TABLES}, in one statement, so it can run inside the caller's transaction
 * (group deletion). The tables always exist: migration `0001` creates them.
 */
export async function deleteGraphState(db: pg.Pool | pg.PoolClient, turnIds: string[]): Promise<void> {
  if (turnIds.length === 0) return;
  await db.query(DELETE_GRAPH_STATE, [turnIds]);
}
