import type { ExecutionResult, TurnEndReason } from "@synapse/shared";
import { dispatchId, noticeId } from "./ids.ts";
import { hasTaskComplete, parseMentions, stripMarkers } from "./mentions.ts";
import {
  type AgentRef,
  type AgentUsage,
  type Dispatch,
  emptyUsage,
  type OutMessage,
  type PendingCall,
  type TurnEvent,
  type TurnState,
} from "./state.ts";

/**
 * A turn's rules as a pure function: the turn state and one event in, the next state out, with the side
 * effects to carry out appended to its `outbox`. No I/O, no clock, no randomness: the same input
 * always gives the same output (ids included), which is what makes a retried step harmless.
 */

/** What the router made of an event (for logs and for the caller's bookkeeping). */
export type RouteOutcome =
  /** the turn began */
  | "started"
  /** a result was recorded */
  | "handled"
  /** a duplicate start or result, a result of an ended turn, or one that does not match its call */
  | "ignored"
  /** a result for a turn whose start is not in the state yet */
  | "not_started"
  /**
   * a result of a call this state has not dispatched: the step that dispatched it died before its
   * checkpoint and will be retried; the result must wait for it
   */
  | "early";

export interface RouteOutput {
  turn: TurnState | null;
  outcome: RouteOutcome;
}

/** Ids of the dispatches decided while handling one event: `(turn, cause, n)` for n = 0, 1, ... */
interface Step {
  cause: string;
  next: number;
  end?: { reason: TurnEndReason; notice?: OutMessage };
}

export function route(prev: TurnState | null, event: TurnEvent): RouteOutput {
  if (event.type === "start") {
    if (prev) return { turn: prev, outcome: "ignored" };
    const turn = begin(event);
    return { turn, outcome: "started" };
  }
  if (!prev) return { turn: prev, outcome: "not_started" };
  if (prev.ended) return { turn: prev, outcome: "ignored" };
  const call = Object.hasOwn(prev.pending, event.dispatch_id) ? prev.pending[event.dispatch_id] : undefined;
  if (!call) return { turn: prev, outcome: prev.handled.includes(event.dispatch_id) ? "ignored" : "early" };
  if (!matches(call, event.result)) return { turn: prev, outcome: "ignored" };

  const turn = structuredClone(prev);
  delete turn.pending[event.dispatch_id];
  turn.handled.push(event.dispatch_id);
  const step: Step = { cause: event.dispatch_id, next: 0 };
  const result = event.result;
  switch (result.kind) {
    case "llm":
      onAnswer(turn, step, event.dispatch_id, call, result);
      break;
    case "llm_error":
      onLlmError(turn, step, event.dispatch_id, call, result);
      break;
    case "tool":
      onToolResult(turn, step, event.dispatch_id, call, result);
      break;
  }
  close(turn, step);
  return { turn, outcome: "handled" };
}

function begin(event: Extract<TurnEvent, { type: "start" }>): TurnState {
  const turn: TurnState = {
    turn_id: event.turn_id,
    group_id: event.group_id,
    agents: event.agents,
    max_steps: event.max_steps,
    steps: 0,
    phase: "orchestrator",
    runs: {},
    pending: {},
    handled: [],
    draining: false,
    usage: emptyUsage(),
    ended: null,
    outbox: [],
  };
  const step: Step = { cause: "start", next: 0 };
  turn.outbox.push({ type: "begin", message_id: event.message.id });
  if (!orchestratorOf(turn)) {
    endTurn(
      step,
      "error",
      notice(turn, "no_orchestrator", "This group has no Orchestrator, so the turn cannot run."),
    );
  } else {
    // a person's mentions pick the agents; the Orchestrator is not one of them (it runs after them anyway)
    const targets = parseMentions(event.message.content, turn.agents).filter((a) => !a.is_orchestrator);
    if (targets.length > 0) startWave(turn, step, targets);
    else startOrchestrator(turn, step);
  }
  close(turn, step);
  return turn;
}

function matches(call: PendingCall, result: ExecutionResult): boolean {
  if (call.kind === "tool") return result.kind === "tool";
  return result.kind === "llm" || result.kind === "llm_error";
}

function onAnswer(
  turn: TurnState,
  step: Step,
  messageId: string,
  call: PendingCall,
  result: Extract<ExecutionResult, { kind: "llm" }>,
): void {
  const content = stripMarkers(result.content);
  const toolCalls = result.tool_calls;
  turn.outbox.push(
    {
      type: "store",
      message: {
        id: messageId,
        sender_type: "agent",
        sender_alias: call.alias,
        content,
        tool_calls: toolCalls.length > 0 ? toolCalls : null,
        // who wrote it, whatever the agent is called later (its own context follows it by id)
        meta: { agent_id: call.agent_id },
      },
    },
    { type: "agent.finished", alias: call.alias },
  );
  countCall(turn, call.alias, result.usage);
  const run = runOf(turn, call.agent_id, call.alias);

  if (toolCalls.length > 0) {
    // tools first, whoever called them (the Orchestrator included); then the caller runs again
    run.status = "tools";
    const ok = dispatch(
      turn,
      step,
      toolCalls.map((tool_call) => ({ kind: "tool", agent_id: call.agent_id, alias: call.alias, tool_call })),
    );
    if (!ok) run.status = "done";
    afterRun(turn, step);
    return;
  }

  run.status = "done";
  if (turn.phase === "orchestrator") {
    // TASK_COMPLETE wins over mentions in the same message
    if (hasTaskComplete(result.content)) {
      endTurn(step, "completed");
      return;
    }
    const targets = parseMentions(content, turn.agents).filter((a) => !a.is_orchestrator);
    if (targets.length > 0) startWave(turn, step, targets);
    else endTurn(step, "awaiting_user");
    return;
  }
  afterRun(turn, step);
}

function onLlmError(
  turn: TurnState,
  step: Step,
  messageId: string,
  call: PendingCall,
  result: Extract<ExecutionResult, { kind: "llm_error" }>,
): void {
  turn.outbox.push(
    {
      type: "store",
      message: {
        id: messageId,
        sender_type: "system",
        sender_alias: "system",
        content: `${call.alias} could not answer: ${result.error.detail}`,
        meta: { agent: call.alias, error_code: result.error.code },
      },
    },
    { type: "agent.finished", alias: call.alias },
  );
  countCall(turn, call.alias, undefined);
  runOf(turn, call.agent_id, call.alias).status = "done";
  // the Orchestrator failing ends the turn; an agent failing is told to the Orchestrator (the notice)
  if (turn.phase === "orchestrator") {
    endTurn(step, "error");
    return;
  }
  afterRun(turn, step);
}

function onToolResult(
  turn: TurnState,
  step: Step,
  messageId: string,
  call: PendingCall,
  result: Extract<ExecutionResult, { kind: "tool" }>,
): void {
  if (call.kind !== "tool") return;
  turn.outbox.push({
    type: "store",
    message: {
      id: messageId,
      sender_type: "tool",
      sender_alias: call.tool_call.name,
      content: result.content,
      tool_call_id: call.tool_call.id,
      meta: { agent: call.alias, is_error: result.is_error },
    },
  });
  const waiting = Object.values(turn.pending).some((p) => p.kind === "tool" && p.agent_id === call.agent_id);
  if (waiting) return;
  // every tool call of this round is answered: the caller runs again and sees all the results
  const run = runOf(turn, call.agent_id, call.alias);
  run.status = "llm";
  if (!dispatch(turn, step, [{ kind: "llm", agent_id: call.agent_id, alias: call.alias }]))
    run.status = "done";
  afterRun(turn, step);
}

/** When every agent of a wave is done (tool rounds included), the Orchestrator runs once. */
function afterRun(turn: TurnState, step: Step): void {
  if (step.end || turn.phase !== "agents" || turn.draining) return;
  if (Object.values(turn.runs).every((r) => r.status === "done")) startOrchestrator(turn, step);
}

function startWave(turn: TurnState, step: Step, agents: AgentRef[]): void {
  turn.phase = "agents";
  turn.runs = {};
  for (const a of agents) turn.runs[a.id] = { agent_id: a.id, alias: a.alias, status: "llm" };
  const ok = dispatch(
    turn,
    step,
    agents.map((a) => ({ kind: "llm", agent_id: a.id, alias: a.alias })),
  );
  if (!ok) for (const r of Object.values(turn.runs)) r.status = "done";
}

function startOrchestrator(turn: TurnState, step: Step): void {
  const orchestrator = orchestratorOf(turn);
  if (!orchestrator) return;
  turn.phase = "orchestrator";
  turn.runs = { [orchestrator.id]: { agent_id: orchestrator.id, alias: orchestrator.alias, status: "llm" } };
  if (!dispatch(turn, step, [{ kind: "llm", agent_id: orchestrator.id, alias: orchestrator.alias }]))
    turn.runs[orchestrator.id]!.status = "done";
}

/**
 * Dispatches the calls as one batch, each one step. When the batch would go beyond the step limit
 * nothing is dispatched and the turn drains: it ends (`max_steps`) once the calls in flight land.
 */
function dispatch(turn: TurnState, step: Step, calls: Omit<Dispatch, "dispatch_id">[]): boolean {
  if (turn.draining || step.end) return false;
  if (turn.steps + calls.length > turn.max_steps) {
    turn.draining = true;
    return false;
  }
  const batch = calls.map(
    (c) => ({ ...c, dispatch_id: dispatchId(turn.turn_id, step.cause, step.next++) }) as Dispatch,
  );
  for (const d of batch) {
    turn.pending[d.dispatch_id] =
      d.kind === "llm"
        ? { kind: "llm", agent_id: d.agent_id, alias: d.alias }
        : { kind: "tool", agent_id: d.agent_id, alias: d.alias, tool_call: d.tool_call };
  }
  turn.steps += batch.length;
  turn.outbox.push({ type: "dispatch", calls: batch });
  return true;
}

function endTurn(step: Step, reason: TurnEndReason, withNotice?: OutMessage): void {
  if (step.end) return;
  step.end = withNotice ? { reason, notice: withNotice } : { reason };
}

/** Ends a turn that waits on nothing, records progress, and queues the end last. */
function close(turn: TurnState, step: Step): void {
  if (!step.end && Object.keys(turn.pending).length === 0) {
    if (turn.draining)
      endTurn(
        step,
        "max_steps",
        notice(turn, "max_steps", `This turn was stopped: it reached its limit of ${turn.max_steps} steps.`),
      );
    // unreachable by construction; a turn must never wait on nothing
    else endTurn(step, "error", notice(turn, "stuck", "This turn stopped: it had nothing left to wait for."));
  }
  turn.outbox.push({ type: "progress", steps: turn.steps, usage: turn.usage });
  if (step.end) {
    turn.ended = step.end.reason;
    turn.outbox.push({ type: "end", ...step.end });
  }
}

function notice(turn: TurnState, what: string, content: string): OutMessage {
  return { id: noticeId(turn.turn_id, what), sender_type: "system", sender_alias: "system", content };
}

function orchestratorOf(turn: TurnState): AgentRef | undefined {
  return turn.agents.find((a) => a.is_orchestrator);
}

function runOf(turn: TurnState, agentId: string, alias: string) {
  turn.runs[agentId] ??= { agent_id: agentId, alias, status: "llm" };
  return turn.runs[agentId];
}

function countCall(
  turn: TurnState,
  alias: string,
  usage: { input_tokens: number; output_tokens: number } | undefined,
) {
  const byAgent = turn.usage.by_agent;
  // aliases are user-chosen keys ("__proto__" is a valid alias): define own properties only
  if (!Object.hasOwn(byAgent, alias))
    Object.defineProperty(byAgent, alias, {
      value: { input_tokens: 0, output_tokens: 0, calls: 0 } satisfies AgentUsage,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  const a = byAgent[alias]!;
  a.calls += 1;
  if (usage) {
    a.input_tokens += usage.input_tokens;
    a.output_tokens += usage.output_tokens;
    turn.usage.input_tokens += usage.input_tokens;
    turn.usage.output_tokens += usage.output_tokens;
  }
}
