import { type BaseCheckpointSaver, END, START, StateGraph } from "@langchain/langgraph";
import { route } from "./router.ts";
import type { Effect, TurnEvent, TurnState } from "./state.ts";
import { TurnGraphState, type TurnGraphValues } from "./state.ts";

/**
 * The turn graph: one node, `step`, in which the pure router (`route`: routing,
 * dispatch, gathering, ending) decides and `apply` carries the decision out.
 *
 *     START ─▶ step ─▶ END        (one invocation per orchestrator job, durability "exit")
 *
 * One superstep per job, and the checkpoint written once, after every side effect (a second
 * superstep, a separate `apply` node, made every step slower). If `apply` fails, the node's output
 * is not applied: the saved state is the previous one (plus the input), exactly as when the
 * process dies mid-step. The retry, or the next event, starts from it, and the router, being
 * deterministic, decides the same thing with the same ids, so re-running the idempotent
 * effects stores nothing twice.
 */
export function buildTurnGraph(opts: { apply: (turn: TurnState, effects: Effect[]) => Promise<void> }) {
  const builder = new StateGraph(TurnGraphState)
    .addNode("step", async (s: TurnGraphValues) => {
      if (!s.event) return {};
      const out = route(s.turn ?? null, s.event);
      if (!out.turn || out.turn === s.turn) return {};
      if (out.turn.outbox.length > 0) await opts.apply(out.turn, out.turn.outbox);
      return { turn: { ...out.turn, outbox: [] } };
    })
    .addEdge(START, "step")
    .addEdge("step", END);
  /**
   * The graph over `checkpointer`: a job's saver is bound to the job's transaction, so the graph
   * is compiled for each job (compiling copies no state; the definition above is made once).
   */
  return {
    withSaver: (checkpointer: BaseCheckpointSaver) => builder.compile({ checkpointer, name: "turn" }),
  };
}

export type TurnGraph = ReturnType<typeof buildTurnGraph>;
type CompiledTurnGraph = ReturnType<TurnGraph["withSaver"]>;

/** Feeds one event to a turn's thread and runs it to its next wait; returns the turn state after it. */
export async function runTurnStep(
  graph: CompiledTurnGraph,
  turnId: string,
  event: TurnEvent,
): Promise<TurnState | null> {
  const out = await graph.invoke({ event }, { configurable: { thread_id: turnId }, durability: "exit" });
  return (out.turn as TurnState | null | undefined) ?? null;
}

/** The saved state of a turn's thread, or null when it has none. */
export async function readTurnState(graph: CompiledTurnGraph, turnId: string): Promise<TurnState | null> {
  const snapshot = await graph.getState({ configurable: { thread_id: turnId } });
  return ((snapshot.values as Partial<TurnGraphValues>).turn as TurnState | null | undefined) ?? null;
}
