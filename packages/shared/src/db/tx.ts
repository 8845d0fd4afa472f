import type pg from "pg";

/**
 * Runs `fn` in a transaction on one pooled connection: `begin`, then `commit` once `fn` succeeded,
 * `rollback` when it threw. Every transaction of the system is made here. A connection whose
 * rollback fails is released with the error, so that the pool drops it rather than hand out a
 * connection in an unknown state.
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("begin");
    const out = await fn(client);
    await client.query("commit");
    return out;
  } catch (err) {
    await client.query("rollback").catch((e: unknown) => {
      broken = e instanceof Error ? e : new Error(String(e));
    });
    throw err;
  } finally {
    client.release(broken);
  }
}
