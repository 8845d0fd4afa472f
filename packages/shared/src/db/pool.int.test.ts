import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testUrls } from "../../../../test/support/services.ts";
import { startTcpProxy, type TcpProxy } from "../../../../test/support/tcp-proxy.ts";
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
