import { AGENT_COLUMNS, type AgentRow } from "@synapse/shared";
import type pg from "pg";

export type { AgentRow };

/** All agents of a group, the Orchestrator first: one indexed query gives the caller and its team. */
export async function loadTeam(db: pg.Pool | pg.PoolClient, groupId: string): Promise<AgentRow[]> {
  const { rows } = await db.query<AgentRow>(
    `select ${AGENT_COLUMNS} from agents where group_id = $1
      order by is_orchestrator desc, created_at, alias`,
    [groupId],
  );
  return rows;
}
