import type pg from "pg";

/** An agent of a group as the worker needs it (the `agents` table). */
export interface AgentRow {
  id: string;
  group_id: string;
  alias: string;
  role_prompt: string;
  provider: string;
  model: string;
  temperature: number;
  tools: string[];
  is_orchestrator: boolean;
}

/** All agents of a group, the Orchestrator first: one indexed query gives the caller and its team. */
export async function loadTeam(db: pg.Pool | pg.PoolClient, groupId: string): Promise<AgentRow[]> {
  const { rows } = await db.query<AgentRow>(
    `select id, group_id, alias, role_prompt, provider, model, temperature, tools, is_orchestrator
       from agents where group_id = $1
      order by is_orchestrator desc, created_at, alias`,
    [groupId],
  );
  return rows;
}
