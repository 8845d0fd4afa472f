import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import { deleteGraphState, POSTGRES_SAVER_TABLES } from "@synapse/shared";
import type pg from "pg";
import { TurnCheckpointSaver } from "./pg-saver.ts";

/** Where turn graphs keep their state, with the clean-up the turn lifecycle needs. */
export interface GraphStore {
  saver: BaseCheckpointSaver;
  /** Deletes the state of these threads (turns). */
  deleteThreads(turnIds: string[]): Promise<void>;
  /** Deletes state left by turns that ended or no longer exist (a crash between a turn's end and its clean-up). */
  collect(): Promise<void>;
}

/**
 * Runs the saver's `setup()` (creating its tables), serialised across processes starting together.
 * Only for savers that create their own tables (`PostgresSaver`); `TurnCheckpointSaver`'s come from the migrations.
 */
export async function setupCheckpointer<T extends { setup(): Promise<void> }>(
  pool: pg.Pool,
  saver: T,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("select pg_advisory_lock(hashtextextended('synapse:checkpointer-setup', 0))");
    await saver.setup();
  } finally {
    await client
      .query("select pg_advisory_unlock(hashtextextended('synapse:checkpointer-setup', 0))")
      .catch(() => undefined);
    client.release();
  }
  return saver;
}

/**
 * The store for a saver. A `TurnCheckpointSaver` (the default) deletes threads and collects
 * leftovers in one statement each; a PostgresSaver's tables are known too (shared
 * `deleteGraphState`), its leftovers found by joining `turns`. Any other saver deletes through its
 * own `deleteThread` and has nothing to collect.
 */
export function graphStore(pool: pg.Pool, saver: BaseCheckpointSaver): GraphStore {
  if (saver instanceof TurnCheckpointSaver)
    return {
      saver,
      deleteThreads: (ids) => saver.deleteThreads(ids),
      collect: async () => {
        await saver.collect();
      },
    };
  if (!(saver instanceof PostgresSaver))
    return {
      saver,
      deleteThreads: async (ids) => {
        for (const id of ids) await saver.deleteThread(id);
      },
      collect: async () => undefined,
    };
  return {
    saver,
    deleteThreads: (ids) => deleteGraphState(pool, ids, { tables: POSTGRES_SAVER_TABLES }),
    async collect() {
      const { rows } = await pool.query<{ thread_id: string }>(
        `select distinct c.thread_id from public.checkpoints c
          where not exists (
            select 1 from turns t
             where t.id = case when c.thread_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                               then c.thread_id::uuid end
               and t.status <> 'ended')
          limit 1000`,
      );
      if (rows.length > 0)
        await deleteGraphState(
          pool,
          rows.map((r) => r.thread_id),
          { tables: POSTGRES_SAVER_TABLES },
        );
    },
  };
}
