// The gateway's types, as @synapse/client generates them from its OpenAPI document.
// `GET /groups` lists groups in the same shape; the list reads only their id and name
export type {
  AgentCreate,
  Group as GroupDetail,
  Group as GroupSummary,
  Member,
  Message,
  Participant,
  ToolCall,
  TurnEndReason,
} from "@synapse/client";
