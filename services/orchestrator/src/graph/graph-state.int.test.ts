import { randomUUID } from "node:crypto";
import { createPool, deleteGraphState, inTransaction } from "@synapse/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testUrls } from "../../../../test/support/services.ts";
import { type Harness, startHarness, waitFor } from "../testing/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

async function rowsOf(turnId: string): Promise<number> {
  const { rows } = await h.pool.query<{ n: number }>(
    `select (select count(*) from checkpoints where thread_id = $1)
          + (select count(*) from checkpoint_blobs where thread_id = $1)
          + (select count(*) from checkpoint_writes where thread_id = $1) as n`,
    [turnId],
  );
  return Number(rows[0]!.n);
}

describe("deleteGraphState", () => {
  it("deletes a turn's checkpoints inside the caller's transaction", async () => {
    const g = await h.createGroup(["Alice"]);
    // Alice never answers: the turn stays running with its graph state saved
    h.scripts.set(g.groupId, () => null);
    const { turnId } = await h.post(g, "@Alice");
    await waitFor(async () => (await rowsOf(turnId)) > 0);
    await inTransaction(h.pool, async (client) => {
      await deleteGraphState(client, [turnId, randomUUID()]);
      await client.query("select 1"); // the transaction is still usable
    });
    expect(await rowsOf(turnId)).toBe(0);
  });

  it("does nothing, and leaves the transaction usable, when the checkpoint tables do not exist", async () => {
    const { databaseUrl } = testUrls();
    const name = `gs_${randomUUID().replaceAll("-", "")}`;
    const admin = createPool(databaseUrl, { max: 1 });
    await admin.query(`create database ${name}`);
    const url = new URL(databaseUrl);
    url.pathname = `/${name}`;
    const fresh = createPool(url.toString(), { max: 1 });
    try {
      const out = await inTransaction(fresh, async (client) => {
        await deleteGraphState(client, [randomUUID()]);
        return (await client.query<{ ok: number }>("select 1 as ok")).rows[0]!.ok;
      });
      expect(out).toBe(1);
      await deleteGraphState(fresh, []);
    } finally {
      await fresh.end();
      await admin.query(`drop database ${name}`);
      await admin.end();
    }
  });
});
