import { afterAll, describe, expect, it } from "vitest";
import { testUrls } from "../../../../test/support/services.ts";
import { withGroupLock } from "../turns.ts";
import { createPool } from "./pool.ts";
import { preparesFor, SqlStatement } from "./prepared.ts";

const pool = createPool(testUrls().databaseUrl, { max: 1 });
afterAll(() => pool.end());

const GROUP = "00000000-0000-4000-8000-000000000001";
const double = new SqlStatement("synapse_test_double", "select $1::int * 2 as v", ["int"]);

/** `statement` EXECUTEd with `arg` under a group lock: its one row. */
function lockAndRun(statement: SqlStatement, arg: string): Promise<unknown> {
  return withGroupLock(pool, GROUP, async (_client, [r]) => r?.rows[0], {
    reads: [statement.execute(arg)],
    prepared: [statement],
  });
}

/** The backend serving the pool's connection (max 1). */
async function backendPid(): Promise<number> {
  return (await pool.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid;
}

/** The names of the statements prepared on the pool's connection (max 1). */
async function prepared(): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    "select name from pg_prepared_statements where name like 'synapse_%' order by name",
  );
  return rows.map((r) => r.name);
}

describe("SqlStatement", () => {
  it("names differ with the text, not with the instance", () => {
    const same = new SqlStatement("synapse_test_double", "select $1::int * 2 as v", ["int"]);
    const other = new SqlStatement("synapse_test_double", "select $1::int * 3 as v", ["int"]);
    expect(same.name).toBe(double.name);
    expect(other.name).not.toBe(double.name);
    expect(double.execute("21")).toBe(`execute ${double.name}(21)`);
    expect(() => double.execute()).toThrow(/takes 1 values/);
  });

  it("is prepared once per connection, in the round trip of its first EXECUTE", async () => {
    const run = () => lockAndRun(double, "21");
    expect(await run()).toEqual({ v: 42 });
    const names = await prepared();
    expect(names).toContain(double.name);
    expect(names.some((n) => n.startsWith("synapse_group_lock_"))).toBe(true);
    // a second lock on the same connection sends no PREPARE (one would fail: the name exists)
    expect(await run()).toEqual({ v: 42 });
    expect(await prepared()).toEqual(names);
  });

  it("a connection whose round trip with PREPAREs failed is dropped, not reused half-prepared", async () => {
    const bad = new SqlStatement("synapse_test_bad", "select $1::int / 0 as v", ["int"]);
    const pid = await backendPid();
    await expect(lockAndRun(bad, "1")).rejects.toThrow(/division by zero/);
    expect(await backendPid()).not.toBe(pid);
    // and on the new connection, statements are prepared again
    expect(await lockAndRun(double, "5")).toEqual({ v: 10 });
  });

  it("a connection that lost its prepared statements (DEALLOCATE ALL) is dropped, and the next one works", async () => {
    expect(await lockAndRun(double, "4")).toEqual({ v: 8 });
    await pool.query("deallocate all"); // the pool's one connection, as other code or a pooler might
    await expect(lockAndRun(double, "4")).rejects.toMatchObject({ code: "26000" });
    expect(await lockAndRun(double, "4")).toEqual({ v: 8 });
  });

  it("a statement listed twice is prepared once", async () => {
    const quad = new SqlStatement("synapse_test_quad", "select $1::int * 4 as v", ["int"]);
    const client = await pool.connect();
    try {
      expect(preparesFor(client, [quad, quad]).sql).toEqual([quad.prepare()]);
    } finally {
      client.release();
    }
  });

  it("preparesFor lists only what the connection lacks", async () => {
    const triple = new SqlStatement("synapse_test_triple", "select $1::int * 3 as v", ["int"]);
    const client = await pool.connect();
    try {
      const first = preparesFor(client, [triple]);
      expect(first.sql).toEqual([triple.prepare()]);
      // not marked before `done` (the round trip might fail)
      expect(preparesFor(client, [triple]).sql).toEqual([triple.prepare()]);
      await client.query(first.sql.join(";"));
      first.done();
      expect(preparesFor(client, [triple]).sql).toEqual([]);
    } finally {
      client.release();
    }
  });
});
