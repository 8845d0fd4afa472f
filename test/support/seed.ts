/**
 * Rows for tests and benches, inserted with SQL (no gateway, no hashing): users, a group with its
 * participants, its agents. Nothing here imports vitest, so the benches use it too.
 */
import { randomUUID } from "node:crypto";
import { AGENT_COLUMNS, type AgentRow } from "@synapse/shared";
import type pg from "pg";

/** A user (no usable password); returns its id. */
export async function insertUser(pool: pg.Pool, email?: string): Promise<string> {
  const id = randomUUID();
  await pool.query("insert into users (id, email, password_hash) values ($1, $2, 'x')", [
    id,
    email ?? `u-${id}@example.test`,
  ]);
  return id;
}

/** A group owned by `ownerId`, with `members` as members; returns its id. */
export async function insertGroup(
  pool: pg.Pool,
  opts: { ownerId: string; members?: string[]; name?: string },
): Promise<string> {
  const id = randomUUID();
  await pool.query("insert into groups (id, name, owner_id) values ($1, $2, $3)", [
    id,
    opts.name ?? "test",
    opts.ownerId,
  ]);
  const people = [opts.ownerId, ...(opts.members ?? [])];
  await pool.query(
    `insert into group_participants (group_id, user_id, role)
     select $1, u, case when i = 1 then 'owner' else 'member' end
       from unnest($2::uuid[]) with ordinality as p(u, i)`,
    [id, people],
  );
  return id;
}

/**
 * Agents of a group, in order. Defaults: the `demo` provider and model; one named "Orchestrator"
 * is the Orchestrator unless `is_orchestrator` says otherwise; any other column not given takes
 * the database's default.
 */
export async function insertAgents(
  pool: pg.Pool,
  groupId: string,
  agents: (Partial<AgentRow> & { alias: string })[],
): Promise<AgentRow[]> {
  const rows: AgentRow[] = [];
  for (const a of agents) {
    const { group_id: _, ...given } = a;
    const values: Record<string, unknown> = {
      provider: "demo",
      model: "demo",
      is_orchestrator: a.alias === "Orchestrator",
      ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)),
      group_id: groupId,
    };
    const columns = Object.keys(values);
    // created one after another: created_at orders them as listed
    const { rows: inserted } = await pool.query<AgentRow>(
      `insert into agents (${columns.join(", ")})
       values (${columns.map((_c, i) => `$${i + 1}`).join(", ")})
       returning ${AGENT_COLUMNS}`,
      Object.values(values),
    );
    rows.push(inserted[0]!);
  }
  return rows;
}
