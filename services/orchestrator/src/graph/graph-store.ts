import { isUuid, unendedTurns } from "@synapse/shared";
import type pg from "pg";
import type { TurnCheckpointSaver } from "./pg-saver.ts";

/** Where turn graphs keep their state, with the clean-up the turn lifecycle needs. */
export interface GraphStore {
  /** The saver a step uses: its reads and writes run in the step's transaction, on `client`. */
  saverFor(client: pg.PoolClient): TurnCheckpointSaver;
  /** Deletes the state of these threads (turns), in the transaction of `client`. */
  deleteThreads(client: pg.PoolClient, turnIds: string[]): Promise<void>;
  /** Deletes state left by turns that ended or no longer exist (a crash between a turn's end and its clean-up). */
  collect(): Promise<void>;
}

/**
 * The store over a saver on the orchestrator's pool. The saver knows threads, the turns table
 * knows which turns are over: collecting asks the one for its threads and the other for the live ones.
 */
export function graphStore(
  saver: Pick<TurnCheckpointSaver, "withClient" | "listThreads" | "deleteThreads">,
  pool: pg.Pool,
  opts: { collectBatch?: number } = {},
): GraphStore {
  const batch = opts.collectBatch ?? 1000;
  return {
    saverFor: (client) => saver.withClient(client),
    deleteThreads: (client, ids) => saver.withClient(client).deleteThreads(ids),
    // page by thread id, so that live threads (kept) never hide dead ones behind them
    async collect() {
      for (let after = ""; ; ) {
        const threads = await saver.listThreads(batch, after);
        if (threads.length === 0) return;
        const live = await unendedTurns(pool, threads.filter(isUuid));
        await saver.deleteThreads(threads.filter((t) => !live.has(t)));
        if (threads.length < batch) return;
        after = threads.at(-1)!;
      }
    },
  };
}
