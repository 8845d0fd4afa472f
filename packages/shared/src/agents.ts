/** A row of the `agents` table (a group's Orchestrator or one of its agents), as services read it. */
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

/** The columns of {@link AgentRow}, for `select`. */
export const AGENT_COLUMNS =
  "id, group_id, alias, role_prompt, provider, model, temperature, tools, is_orchestrator";
