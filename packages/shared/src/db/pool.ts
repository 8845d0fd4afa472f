import pg from "pg";
import type { Logger } from "../logger.ts";
import { markConnectionLost, ServiceUnavailableError } from "../outage.ts";

/**
 * The type parsers of Synapse's pools: pg's own, but int8 (seqs, counts) read as a JS number rather
 * than a string, which a group's seq never outgrows. Given to each pool, so that pg's global parsers,
 * and any other pg user in the process, are left as they are.
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === pg.types.builtins.INT8 && format !== "binary"
      ? (v: string) => Number.parseInt(v, 10)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig["getTypeParser"],
};

/** Options for {@link createPool}. */
export interface PoolOptions {
  /** @defaultValue 20 */
  max?: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
  /** Where an idle connection's failure is logged (a service's logger); without one it is dropped. */
  logger?: Logger;
}

type ConnectCallback = (err: Error | undefined, client: pg.PoolClient | undefined, done: () => void) => void;

/**
 * A pool whose failures to hand out a connection (refused, timed out, pool ended) are
 * `ServiceUnavailableError`s: pg-pool makes some of them without a code, and callers must tell an
 * unreachable database from a failing statement. `pool.query` takes its connection here too.
 */
class Pool extends pg.Pool {
  override connect(): Promise<pg.PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | undefined {
    if (callback) {
      super.connect((err, client, done) =>
        callback(err ? new ServiceUnavailableError({ cause: err }) : undefined, client, done),
      );
      return undefined;
    }
    return super.connect().catch((err: unknown) => {
      throw new ServiceUnavailableError({ cause: err });
    });
  }
}

/** A node-postgres pool. Nothing connects until the first query. */
export function createPool(url: string, opts: PoolOptions = {}): pg.Pool {
  const pool = new Pool({
    connectionString: url,
    max: opts.max ?? 20,
    application_name: opts.applicationName ?? "synapse",
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
    types,
  });
  // an idle client losing its connection must not crash the process; the next query reconnects.
  // The message and code only: the error carries nothing of the connection string.
  pool.on("error", (err) =>
    opts.logger?.warn({ err: { message: err.message, code: pgCode(err) } }, "database connection lost"),
  );
  // nor may a checked-out one (pg-pool listens only while a client is idle): its queries fail with
  // the error, and the pool drops it when it is released. That error has no code: mark it an outage
  pool.on("connect", (client) => client.on("error", markConnectionLost));
  return pool;
}

/** Postgres error code, when `err` is one (e.g. 23505 unique_violation). */
export function pgCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err && typeof err.code === "string"
    ? err.code
    : undefined;
}
