import { createHash } from "node:crypto";
import type pg from "pg";
import { pgCode } from "./pool.ts";

/**
 * A statement PREPAREd in SQL on each connection that runs it, so that it can ride in a
 * multi-statement simple query (`execute name(...)`) and still keep its plan: PostgreSQL plans every
 * statement of a simple query anew, which for the turn lifecycle's reads cost more than running them.
 * Names are per connection and share the namespace of pg's own named statements: give each `base`
 * a prefix of its own.
 */
export class SqlStatement {
  /** Its name on a connection: `base` and a hash of the text, so that two texts never share one. */
  readonly name: string;

  /** `types`: the SQL types of `$1`, `$2`… of `text`. */
  constructor(
    base: string,
    readonly text: string,
    readonly types: string[],
  ) {
    const hash = createHash("sha1")
      .update(`${types.join(",")}\n${text}`)
      .digest("hex")
      .slice(0, 12);
    this.name = `${base}_${hash}`;
  }

  /** The statement's EXECUTE with these SQL literals (checked by the caller, e.g. `uuidLiteral`). */
  execute(...literals: string[]): string {
    if (literals.length !== this.types.length)
      throw new TypeError(`${this.name} takes ${this.types.length} values, got ${literals.length}`);
    return literals.length ? `execute ${this.name}(${literals.join(", ")})` : `execute ${this.name}`;
  }

  /** The PREPARE that creates it on a connection. */
  prepare(): string {
    return `prepare ${this.name}${this.types.length ? `(${this.types.join(", ")})` : ""} as ${this.text}`;
  }
}

const preparedOn = new WeakMap<pg.ClientBase, Set<string>>();

/**
 * Whether `err` says the connection lost a statement prepared on it (a `DEALLOCATE`/`DISCARD` by
 * other code, a pooler resetting the session) or holds a plan that no longer fits (a migration
 * changed a column it returns): the connection is then of no use for these statements, and should
 * be released with the error so that the pool drops it.
 */
export function lostPreparedStatement(err: unknown): boolean {
  const code = pgCode(err);
  // 0A000 covers more than a stale plan: dropping a connection for another one costs a reconnect
  return code === "26000" || code === "0A000";
}

/**
 * The PREPAREs of those `statements` that `client` lacks (each once), to send ahead of their first
 * EXECUTE in the same round trip, and `done`, to call once that round trip has succeeded. Should it
 * fail, the connection holds an unknown part of them: release it with an error
 * (`client.release(err)`), so that the pool drops it.
 */
export function preparesFor(
  client: pg.ClientBase,
  statements: readonly SqlStatement[],
): { sql: string[]; done(): void } {
  const have = preparedOn.get(client);
  const names = new Set<string>();
  const missing = statements.filter((s) => {
    if (have?.has(s.name) || names.has(s.name)) return false;
    names.add(s.name);
    return true;
  });
  return {
    sql: missing.map((s) => s.prepare()),
    done() {
      if (missing.length === 0) return;
      const set = preparedOn.get(client) ?? new Set<string>();
      for (const s of missing) set.add(s.name);
      preparedOn.set(client, set);
    },
  };
}
