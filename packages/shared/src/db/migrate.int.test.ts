import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { testUrls } from "../../../../test/support/services.ts";
import { insertMessage } from "../messages.ts";
import { migrateDown, migrateUp } from "./migrate.ts";
import { createPool } from "./pool.ts";

describe("migrations", () => {
  // a database of its own, so rolling back does not disturb the other test files
  const admin = createPool(testUrls().databaseUrl, { max: 1 });
  const name = `mig_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const url = new URL(testUrls().databaseUrl);
  url.pathname = `/${name}`;
  const pool = createPool(url.toString(), { max: 2 });

  afterAll(async () => {
    await pool.end();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  });

  it("round-trips rollback and migrate on a database with data", async () => {
    await admin.query(`create database ${name}`);
    const all = await migrateUp(pool);
    expect(all[0]).toBe("0000_init");
    expect(await migrateUp(pool)).toEqual([]);
    const { rows } = await pool.query<{ id: string }>(
      "insert into users (email, password_hash) values ('a@b.c', 'x') returning id",
    );
    const user = rows[0]!.id;
    const g = await pool.query<{ id: string }>(
      "insert into groups (name, owner_id) values ('g', $1) returning id",
      [user],
    );
    const groupId = g.rows[0]!.id;
    const m1 = await insertMessage(pool, {
      id: randomUUID(),
      group_id: groupId,
      turn_id: null,
      sender_type: "user",
      sender_alias: "a",
      content: "hi",
    });
    const m2 = await insertMessage(pool, {
      id: randomUUID(),
      group_id: groupId,
      turn_id: null,
      sender_type: "user",
      sender_alias: "a",
      content: "again",
    });
    expect([m1.message.seq, m2.message.seq]).toEqual([1, 2]);
    const again = await insertMessage(pool, {
      id: m2.message.id,
      group_id: groupId,
      turn_id: null,
      sender_type: "user",
      sender_alias: "a",
      content: "again",
    });
    expect(again.created).toBe(false);
    expect(again.message.seq).toBe(2);

    // one step back undoes only the newest migration, and the data stays
    expect(await migrateDown(pool)).toEqual([all.at(-1)]);
    expect((await pool.query("select count(*)::int as n from messages")).rows[0].n).toBe(2);
    expect(await migrateUp(pool)).toEqual([all.at(-1)]);
    // all the way back, and forward again
    expect(await migrateDown(pool, all.length)).toEqual([...all].reverse());
    const tables = await pool.query("select 1 from information_schema.tables where table_name = 'messages'");
    expect(tables.rowCount).toBe(0);
    expect(await migrateUp(pool)).toEqual(all);
  });
});
