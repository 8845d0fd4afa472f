import { randomUUID } from "node:crypto";
import { deleteGraphState, withTransaction } from "@synapse/shared";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, waitFor } from "../../test/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

async function rowsOf(turnId: string): Promise<number> {
  const { rows } = await h.pool.query<{ n: number }>(
    `select (select count(*) from graph_checkpoints where thread_id = $1)
          + (select count(*) from graph_blobs where thread_id = $1)
          + (select count(*) from graph_writes where thread_id = $1) as n`,
    [turnId],
  );
  return Number(rows[0]!.n);
}

describe("deleteGraphState", () => {
  it("deletes a turn's checkpoints inside the caller's transaction, in one statement", async () => {
    const g = await h.createGroup(["Alice"]);
    // Alice never answers: the turn stays running with its graph state saved
    h.scripts.set(g.groupId, () => null);
    const { turnId } = await h.post(g, "@Alice");
    await waitFor(async () => (await rowsOf(turnId)) > 0);
    await withTransaction(h.pool, async (client) => {
      let statements = 0;
      const counting = {
        query: (...args: Parameters<pg.PoolClient["query"]>) => {
          statements += 1;
          return (client.query as (...a: unknown[]) => unknown)(...args);
        },
      } as unknown as pg.PoolClient;
      await deleteGraphState(counting, [turnId, randomUUID()]);
      expect(statements).toBe(1);
      await client.query("select 1"); // the transaction is still usable
    });
    expect(await rowsOf(turnId)).toBe(0);
  });

  it("issues nothing for no turns", async () => {
    const none = {
      query: () => {
        throw new Error("no statement expected");
      },
    } as unknown as pg.PoolClient;
    await deleteGraphState(none, []);
  });
});
