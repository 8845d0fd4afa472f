import { AGENT_COLUMNS, type AgentRow, ConflictError, NotFoundError, pgCode } from "@synapse/shared";
import type pg from "pg";
import type { AgentCreate } from "./agent.schemas.ts";
import type { GroupDetailOut, MemberOut, ParticipantOut } from "./schemas.ts";

type Db = pg.Pool | pg.PoolClient;

export const toMember = (r: AgentRow): MemberOut => ({ ...r, temperature: Number(r.temperature) });

/** What an agent is made of: a validated AgentCreate body (agent.schemas.ts). */
export type AgentInput = AgentCreate;

/** Maps the per-group unique alias index to 409 `alias_taken` (and a group deleted meanwhile to 404). */
export function aliasConflict(err: unknown, alias: string | undefined): unknown {
  if (pgCode(err) === "23503") return new NotFoundError("group");
  if (
    pgCode(err) === "23505" &&
    (err as { constraint?: string }).constraint === "agents_group_alias_lower_key"
  )
    return new ConflictError("alias_taken", `alias "${alias ?? ""}" is already used in this group`);
  return err;
}

export async function insertAgent(
  db: Db,
  groupId: string,
  a: AgentInput,
  isOrchestrator = false,
): Promise<MemberOut> {
  try {
    const { rows } = await db.query<AgentRow>(
      `insert into agents (group_id, alias, role_prompt, provider, model, temperature, tools, is_orchestrator)
       values ($1, $2, $3, $4, $5, $6, $7, $8) returning ${AGENT_COLUMNS}`,
      [groupId, a.alias, a.role_prompt, a.provider, a.model, a.temperature, a.tools, isOrchestrator],
    );
    return toMember(rows[0]!);
  } catch (err) {
    throw aliasConflict(err, a.alias);
  }
}

interface GroupRow {
  id: string;
  name: string;
  owner_id: string;
  created_at: Date;
  updated_at: Date;
}

/** Full details of the given groups, in the order given (missing ids are skipped). */
export async function loadGroups(db: Db, ids: string[]): Promise<GroupDetailOut[]> {
  if (ids.length === 0) return [];
  const [groups, agents, people] = await Promise.all([
    db.query<GroupRow>(
      "select id, name, owner_id, created_at, updated_at from groups where id = any($1::uuid[])",
      [ids],
    ),
    db.query<AgentRow>(
      `select ${AGENT_COLUMNS} from agents where group_id = any($1::uuid[])
        order by is_orchestrator desc, created_at, id`,
      [ids],
    ),
    db.query<ParticipantOut & { group_id: string }>(
      `select gp.group_id, gp.user_id, u.email, gp.role
         from group_participants gp join users u on u.id = gp.user_id
        where gp.group_id = any($1::uuid[])
        order by gp.role = 'owner' desc, gp.created_at, u.email`,
      [ids],
    ),
  ]);
  const byId = new Map<string, GroupDetailOut>();
  for (const g of groups.rows)
    byId.set(g.id, {
      id: g.id,
      name: g.name,
      owner_id: g.owner_id,
      created_at: g.created_at.toISOString(),
      updated_at: g.updated_at.toISOString(),
      members: [],
      participants: [],
    });
  for (const a of agents.rows) byId.get(a.group_id)?.members.push(toMember(a));
  for (const { group_id, ...p } of people.rows) byId.get(group_id)?.participants.push(p);
  return ids.flatMap((groupId) => byId.get(groupId) ?? []);
}

export async function loadGroup(db: Db, id: string): Promise<GroupDetailOut> {
  const [group] = await loadGroups(db, [id]);
  if (!group) throw new NotFoundError("group");
  return group;
}
