import type { components, operations } from "./schema.ts";

type Schemas = components["schemas"];

/** The JSON body of an operation's request. */
export type RequestBody<Op extends keyof operations> = operations[Op] extends {
  requestBody?: { content: { "application/json": infer B } };
}
  ? B
  : never;

/** The JSON body of an operation's response with the given status. */
export type ResponseBody<Op extends keyof operations, Status extends number = 200> = operations[Op] extends {
  responses: { [S in Status]: { content: { "application/json": infer B } } };
}
  ? B
  : never;

export type Message = Schemas["Message"];
export type ToolCall = Schemas["ToolCall"];
/** A group with its members (agents) and participants (people), as every group route returns it. */
export type Group = Schemas["GroupDetail"];
/** An agent of a group; one of them is its Orchestrator. */
export type Member = Schemas["Member"];
/** A person of a group, owner or member. */
export type Participant = Schemas["Participant"];
export type Turn = Schemas["Turn"];
export type Tool = Schemas["Tool"];
export type LlmOption = Schemas["LlmOption"];
export type AccessToken = Schemas["AccessToken"];
export type Readiness = Schemas["Readiness"];
/** The `{detail, code}` body of every error response. */
export type ApiError = Schemas["Error"];
export type User = ResponseBody<"getMe">;
export type AgentCreate = RequestBody<"addMember">;
export type AgentUpdate = RequestBody<"updateMember">;
export type GroupCreate = RequestBody<"createGroup">;
