export type { AgentCreate, Message, ToolCall, TurnEndReason } from "@synapse/client";

/** A group's agent, as `GET /groups/{id}` lists it. */
export interface Member {
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

export interface Participant {
  user_id: string;
  email: string;
  role: string;
}

export interface GroupSummary {
  id: string;
  name: string;
  owner_id: string;
  created_at: string;
  updated_at: string;
}

export interface GroupDetail extends GroupSummary {
  members: Member[];
  participants: Participant[];
}
