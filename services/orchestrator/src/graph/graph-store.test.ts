import { randomUUID } from "node:crypto";
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { graphStore } from "./graph-store.ts";
import type { TurnCheckpointSaver } from "./pg-saver.ts";

describe("graphStore.collect", () => {
  it("deletes dead threads that sort after more live threads than one page holds", async () => {
    const threads: string[] = Array.from({ length: 7 }, () => randomUUID()).sort();
    const live = new Set(threads.slice(0, 5)); // the first pages hold only live threads
    let stored = [...threads];
    const saver = {
      withClient: () => saver as unknown as TurnCheckpointSaver,
      listThreads: async (limit: number, after = "") => stored.filter((t) => t > after).slice(0, limit),
      deleteThreads: async (ids: string[]) => {
        stored = stored.filter((t) => !ids.includes(t));
      },
    };
    // what unendedTurns asks the turns table
    const pool = {
      query: async (_text: string, [ids]: [string[]]) => ({
        rows: ids.filter((id) => live.has(id)).map((id) => ({ id })),
      }),
    } as unknown as pg.Pool;
    await graphStore(saver, pool, { collectBatch: 2 }).collect();
    expect(stored).toEqual(threads.slice(0, 5));
  });
});
