import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { testUrls } from "../../../../test/support/services.ts";
import { startTcpProxy, type TcpProxy } from "../../../../test/support/tcp-proxy.ts";
import type { Logger } from "../logger.ts";
import { isUnavailableError } from "../outage.ts";
import { createPool } from "./pool.ts";

let proxy: TcpProxy;
beforeAll(async () => {
  proxy = await startTcpProxy(Number(new URL(testUrls().databaseUrl).port));
});
afterAll(async () => {
  await proxy?.close();
});

describe("a pool whose PostgreSQL goes away", () => {
  it("fails a query cut mid-statement with an outage error, and refused checkouts too", async () => {
    const pool = createPool(proxy.urlFor(testUrls().databaseUrl), { max: 2 });
    try {
      const client = await pool.connect();
      const cut = client.query("select pg_sleep(5)").catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 200));
      // a plain close, as a server process dying does: pg's error for it carries no code
      await proxy.down({ reset: false });
      const err = await cut;
      client.release(err as Error);
      expect(err).toBeInstanceOf(Error);
      expect(isUnavailableError(err)).toBe(true);
      expect(isUnavailableError(await pool.query("select 1").catch((e: unknown) => e))).toBe(true);
    } finally {
      await pool.end();
    }
  });
});

describe("createPool", () => {
  it("reads int8 as a number on its own connections, leaving pg's global parsers alone", async () => {
    const pool = createPool(testUrls().databaseUrl, { max: 1 });
    try {
      const { rows } = await pool.query(
        "select 9007199254740991::int8 as big, count(*) as n from (values (1), (2)) v",
      );
      expect(rows[0]).toEqual({ big: Number.MAX_SAFE_INTEGER, n: 2 });
      expect(pg.types.getTypeParser(pg.types.builtins.INT8, "text")("7")).toBe("7");
    } finally {
      await pool.end();
    }
  });

  it("logs an idle connection's failure through the logger it was given, without the URL", async () => {
    const lines: unknown[][] = [];
    const logger = { warn: (...args: unknown[]) => lines.push(args) } as unknown as Logger;
    const pool = createPool(testUrls().databaseUrl, { max: 1, logger, applicationName: "pool-error-test" });
    try {
      await pool.query("select 1"); // one idle connection now
      const admin = createPool(testUrls().databaseUrl, { max: 1 });
      await admin.query(
        "select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1",
        ["pool-error-test"],
      );
      await admin.end();
      await vi.waitFor(() => expect(lines).toHaveLength(1));
      expect(lines[0]?.[1]).toBe("database connection lost");
      expect(JSON.stringify(lines[0])).toMatch(/terminat/);
      expect(JSON.stringify(lines[0])).not.toContain(new URL(testUrls().databaseUrl).host);
    } finally {
      await pool.end();
    }
  });
});
