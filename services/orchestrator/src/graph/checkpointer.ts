import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { TurnCheckpointSaver } from "./pg-saver.ts";

/** Where turn graphs keep their state, with the clean-up the turn lifecycle needs. */
export interface GraphStore {
  saver: BaseCheckpointSaver;
  /** Deletes the state of these threads (turns). */
  deleteThreads(turnIds: string[]): Promise<void>;
  /** Deletes state left by turns that ended or no longer exist (a crash between a turn's end and its clean-up). */
  collect(): Promise<void>;
  /**
   * When the state lives in the orchestrator's database: SQL that the turn lifecycle runs in round
   * trips it makes anyway (under the group lock), so that a step issues no statement of its own to
   * read or delete a thread. Where a statement takes a thread id, it is given as SQL (a literal, a
   * parameter such as `$1` of a prepared statement, or a column of the enclosing query).
   */
  sql?: {
    /** Selects the latest checkpoint of the thread `threadIdSql` evaluates to; its rows go to `prime`. */
    latest(threadIdSql: string): string;
    /** Deletes these threads. */
    deleteThreads(turnIds: string[]): string;
    /**
     * The thread's latest checkpoint, as `latest` read it: the step reads it from here, and its
     * checkpoint write waits for `takeDeferredPut` (the lifecycle runs it with its commit).
     */
    prime(turnId: string, rows: unknown[]): void;
    /** The deferred checkpoint write of a primed thread, as a statement without parameters. */
    takeDeferredPut(turnId: string): string | undefined;
    /** Forgets the primed checkpoint, and drops a deferred write not taken. */
    unprime(turnId: string): void;
  };
}

/**
 * The store for a saver. A `TurnCheckpointSaver` (the default; its tables come from migration
 * `0001_turn_checkpoints`) deletes threads and collects leftovers in one statement each, and its
 * reads and deletes can ride on the lifecycle's own round trips. Any other saver (tests:
 * `MemorySaver`) deletes through its own `deleteThread` and has nothing to collect.
 */
export function graphStore(saver: BaseCheckpointSaver): GraphStore {
  if (saver instanceof TurnCheckpointSaver)
    return {
      saver,
      deleteThreads: (ids) => saver.deleteThreads(ids),
      collect: async () => {
        await saver.collect();
      },
      sql: {
        latest: (threadIdSql) => saver.latestSql(threadIdSql),
        deleteThreads: (ids) => saver.deleteThreadsSql(ids),
        prime: (id, rows) => saver.prime(id, rows),
        takeDeferredPut: (id) => saver.takeDeferredPut(id),
        unprime: (id) => saver.unprime(id),
      },
    };
  return {
    saver,
    deleteThreads: async (ids) => {
      for (const id of ids) await saver.deleteThread(id);
    },
    collect: async () => undefined,
  };
}
