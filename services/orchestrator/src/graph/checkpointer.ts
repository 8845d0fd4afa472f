import type { BaseCheckpointSaver } from "@langchain/langgraph";
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
 * The store for a saver. A `TurnCheckpointSaver` (the default; its tables come from migration
 * `0001_turn_checkpoints`) deletes threads and collects leftovers in one statement each. Any other
 * saver (tests: `MemorySaver`) deletes through its own `deleteThread` and has nothing to collect.
 */
export function graphStore(saver: BaseCheckpointSaver): GraphStore {
  if (saver instanceof TurnCheckpointSaver)
    return {
      saver,
      deleteThreads: (ids) => saver.deleteThreads(ids),
      collect: async () => {
        await saver.collect();
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
