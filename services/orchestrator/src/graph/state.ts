import { Annotation } from "@langchain/langgraph";
import type { ExecutionResult, SenderType, ToolCall, TurnEndReason } from "@synapse/shared";

/** An agent of the group as the turn knows it (a snapshot taken when the turn starts). */
export interface AgentRef {
  id: string;
  alias: string;
  is_orchestrator: boolean;
}

/** Token usage of one agent in a turn; `calls` counts its LLM calls that returned (answer or error). */
export interface AgentUsage {
  input_tokens: number;
  output_tokens: number;
  calls: number;
}

/** The `usage` column of a turn. */
export interface TurnUsage {
  input_tokens: number;
  output_tokens: number;
  by_agent: Record<string, AgentUsage>;
}

/** A call dispatched and not yet answered, by dispatch id. */
export type PendingCall =
  | { kind: "llm"; agent_id: string; alias: string }
  | { kind: "tool"; agent_id: string; alias: string; tool_call: ToolCall };

/** Where one agent of the current wave is: waiting for its LLM call, for its tools, or done. */
export interface Run {
  agent_id: string;
  alias: string;
  status: "llm" | "tools" | "done";
}

/** A message the turn stores (and then publishes). Its id is chosen before the write. */
export interface OutMessage {
  id: string;
  sender_type: Exclude<SenderType, "user">;
  sender_alias: string;
  content: string;
  tool_calls?: ToolCall[] | null;
  tool_call_id?: string | null;
  meta?: Record<string, unknown> | null;
}

/** One call to dispatch as an execution job (`dispatch_id` is also the id of its answer). */
export type Dispatch =
  | { kind: "llm"; dispatch_id: string; agent_id: string; alias: string }
  | { kind: "tool"; dispatch_id: string; agent_id: string; alias: string; tool_call: ToolCall };

/**
 * A side effect decided by the router and carried out by the `apply` node: first every database
 * write of the step in one transaction, then, in order, the frames and jobs that announce them.
 * Each is idempotent (ids chosen in advance, deterministic job ids), so re-running them after a
 * failure stores nothing twice (a frame may be sent again; gateways drop repeated `message` seqs).
 */
export type Effect =
  /** the turn becomes running (announced by `turn.started`) */
  | { type: "begin"; message_id: string }
  | { type: "store"; message: OutMessage }
  | { type: "agent.finished"; alias: string }
  | { type: "dispatch"; calls: Dispatch[] }
  | { type: "progress"; steps: number; usage: TurnUsage }
  | { type: "end"; reason: TurnEndReason; notice?: OutMessage };

/** The state of one turn: the value of its graph thread (thread id = turn id). */
export interface TurnState {
  turn_id: string;
  group_id: string;
  agents: AgentRef[];
  max_steps: number;
  /** LLM and tool calls dispatched so far. */
  steps: number;
  /** Who runs now: the agents of a wave (gathered before the Orchestrator), or the Orchestrator. */
  phase: "agents" | "orchestrator";
  /** The runs of the current phase, by agent id. */
  runs: Record<string, Run>;
  /** Calls awaiting their result, by dispatch id. */
  pending: Record<string, PendingCall>;
  /** Dispatch ids whose result was recorded: a result found here again is a duplicate, and dropped. */
  handled: string[];
  /** The step limit was hit while calls were in flight: dispatch nothing more, end when they land. */
  draining: boolean;
  usage: TurnUsage;
  ended: TurnEndReason | null;
  /**
   * The effects the router decided for the event being handled; the step carries them out before
   * the state is saved, so a saved state always has an empty outbox.
   */
  outbox: Effect[];
}

/** What a turn's graph is fed: its start, or one execution result. */
export type TurnEvent =
  | {
      type: "start";
      turn_id: string;
      group_id: string;
      message: { id: string; content: string };
      agents: AgentRef[];
      max_steps: number;
    }
  | { type: "result"; dispatch_id: string; result: ExecutionResult };

/** The graph's channels: the event being handled and the turn state. */
export const TurnGraphState = Annotation.Root({
  event: Annotation<TurnEvent | null>(),
  turn: Annotation<TurnState | null>(),
});

export type TurnGraphValues = typeof TurnGraphState.State;

export function emptyUsage(): TurnUsage {
  return { input_tokens: 0, output_tokens: 0, by_agent: {} };
}
