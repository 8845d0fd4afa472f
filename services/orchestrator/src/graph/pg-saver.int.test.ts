import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { RunnableConfig } from "@langchain/core/runnables";
import { type ChannelVersions, emptyCheckpoint, uuid6 } from "@langchain/langgraph-checkpoint";
import { deltaChannelHistoryTests, specTest } from "@langchain/langgraph-checkpoint-validation";
import { createPool, MIGRATIONS_DIR, withTransaction } from "@synapse/shared";
import * as vitest from "vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testUrls } from "../../../../test/support/services.ts";
import { graphStore } from "./graph-store.ts";
import { TurnCheckpointSaver, type TurnCheckpointSaverOptions } from "./pg-saver.ts";

// LangGraph's conformance suite is written against test globals; this project imports them
Object.assign(globalThis, {
  describe: vitest.describe,
  it: vitest.it,
  test: vitest.test,
  expect: vitest.expect,
  beforeAll: vitest.beforeAll,
  afterAll: vitest.afterAll,
  beforeEach: vitest.beforeEach,
  afterEach: vitest.afterEach,
});

/**
 * The suite expects every saver it creates to start empty, and uses fixed thread ids: each
 * variant gets a schema of its own with the tables of the real migration, emptied per saver.
 */
function initializer(name: string, opts: TurnCheckpointSaverOptions = {}) {
  const schema = `cp_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const pool = createPool(testUrls().databaseUrl, { max: 4 });
  return {
    checkpointerName: name,
    async beforeAll() {
      const sql = readFileSync(path.join(MIGRATIONS_DIR, "0001_turn_checkpoints.sql"), "utf8");
      const client = await pool.connect();
      try {
        await client.query(`create schema ${schema}; set search_path to ${schema}`);
        await client.query(sql.replaceAll("--> statement-breakpoint", ""));
      } finally {
        await client.query("reset search_path").catch(() => undefined);
        client.release();
      }
    },
    async afterAll() {
      await pool.query(`drop schema if exists ${schema} cascade`);
      await pool.end();
    },
    async createCheckpointer() {
      await pool.query(`truncate ${schema}.graph_checkpoints, ${schema}.graph_blobs, ${schema}.graph_writes`);
      return new TurnCheckpointSaver(pool, { ...opts, schema });
    },
    pool,
    schema,
  };
}

const plain = initializer("TurnCheckpointSaver");
specTest(plain);
deltaChannelHistoryTests(plain);

describe("TurnCheckpointSaver, turn specifics", () => {
  const init = initializer("specifics");
  let saver: TurnCheckpointSaver;
  beforeAll(async () => {
    await init.beforeAll();
    saver = await init.createCheckpointer();
  });
  afterAll(() => init.afterAll());

  async function rows(table: string, threadId: string): Promise<number> {
    const { rows } = await init.pool.query<{ n: number }>(
      `select count(*)::int as n from ${init.schema}.${table} where thread_id = $1`,
      [threadId],
    );
    return rows[0]!.n;
  }

  /** Puts a chain of checkpoints; `step` changes `b` only on even steps, `a` on every one. */
  async function chain(threadId: string, length: number, into = saver) {
    let config: RunnableConfig = { configurable: { thread_id: threadId, checkpoint_ns: "" } };
    const configs: RunnableConfig[] = [];
    for (let i = 0; i < length; i++) {
      const b = Math.floor(i / 2) * 2 + 1;
      const checkpoint = {
        ...emptyCheckpoint(),
        id: uuid6(0),
        channel_values: { a: `a${i}`, b: `b${b}` },
        channel_versions: { a: i + 1, b },
      };
      const newVersions: ChannelVersions = i % 2 === 0 ? { a: i + 1, b } : { a: i + 1 };
      config = await into.put(config, checkpoint, { source: "loop", step: i, parents: {} }, newVersions);
      await into.putWrites(config, [["a", `w${i}`]], "task");
      configs.push(config);
    }
    return configs;
  }

  it("keeps every checkpoint by default", async () => {
    const threadId = randomUUID();
    await chain(threadId, 4);
    expect(await rows("graph_checkpoints", threadId)).toBe(4);
    const all = [];
    for await (const t of saver.list({ configurable: { thread_id: threadId } })) all.push(t);
    expect(all.map((t) => t.checkpoint.channel_values)).toEqual([
      { a: "a3", b: "b3" },
      { a: "a2", b: "b3" },
      { a: "a1", b: "b1" },
      { a: "a0", b: "b1" },
    ]);
  });

  it("deletes threads in one call, and leaves the others", async () => {
    const [t1, t2, t3] = [randomUUID(), randomUUID(), randomUUID()];
    await chain(t1, 2);
    await chain(t2, 2);
    await chain(t3, 1);
    await saver.deleteThreads([t1, t2]);
    for (const t of [t1, t2])
      expect(
        (await rows("graph_checkpoints", t)) +
          (await rows("graph_blobs", t)) +
          (await rows("graph_writes", t)),
      ).toBe(0);
    expect(await rows("graph_checkpoints", t3)).toBe(1);
  });

  it("collects threads that are not turns in progress", async () => {
    const threadId = randomUUID(); // no such turn
    await chain(threadId, 1);
    await graphStore(saver, init.pool).collect();
    expect(await rows("graph_checkpoints", threadId)).toBe(0);
    expect(await rows("graph_blobs", threadId)).toBe(0);
  });

  it("bound to a transaction, writes with it: committed, values intact; rolled back, nothing", async () => {
    const threadId = randomUUID();
    await chain(threadId, 1);
    // values that must reach the database intact: quotes, backslashes, odd bytes
    const tricky = `it's \\ a "test" \u00e9 ${"\u0001"}`;
    const checkpoint = {
      ...emptyCheckpoint(),
      id: uuid6(0),
      channel_values: { a: tricky, b: new Uint8Array([0, 39, 92, 255]) },
      channel_versions: { a: 2, b: 2 },
    };
    const latest = await saver.getTuple({ configurable: { thread_id: threadId } });
    const config = await withTransaction(init.pool, async (client) => {
      const bound = saver.withClient(client);
      expect((await bound.getTuple(latest!.config))?.checkpoint.channel_values).toEqual({ a: "a0", b: "b1" });
      const written = await bound.put(
        latest!.config,
        checkpoint,
        { source: "loop", step: 1, parents: {} },
        {
          a: 2,
          b: 2,
        },
      );
      expect(await rows("graph_checkpoints", threadId)).toBe(1); // not committed yet
      return written;
    });
    expect(await rows("graph_checkpoints", threadId)).toBe(2);
    const tuple = await saver.getTuple({ configurable: { thread_id: threadId } });
    expect(tuple?.config.configurable?.checkpoint_id).toBe(config.configurable?.checkpoint_id);
    expect(tuple?.checkpoint.channel_values.a).toBe(tricky);
    expect(Buffer.from(tuple?.checkpoint.channel_values.b as Uint8Array)).toEqual(
      Buffer.from([0, 39, 92, 255]),
    );

    await expect(
      withTransaction(init.pool, async (client) => {
        await saver
          .withClient(client)
          .put(config, { ...checkpoint, id: uuid6(0) }, { source: "loop", step: 2, parents: {} }, {});
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    expect(await rows("graph_checkpoints", threadId)).toBe(2);
  });
});
