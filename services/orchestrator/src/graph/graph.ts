import { type BaseCheckpointSaver, END, START, StateGraph } from "@langchain/langgraph";
import { route } from "./router.ts";
import type { Effect, TurnEvent, TurnState } from "./state.ts";
import { TurnGraphState, type TurnGraphValues } from "./state.ts";

/**
 * The turn graph: `route` (the pure router of SPEC §5) decides, `apply` carries the decision out.
 *
 *     START ─▶ route ─(outbox empty)─▶ END
 *                 └─▶ apply ─▶ END
 *
 * One invocation per orchestrator job, with durability "exit": the checkpoint is written once,
 * after every side effect. If `apply` fails, LangGraph still saves the routed state with its
 * outbox; the retry (or the next event) finds the outbox non-empty and `apply` carries it out
 * again (each effect is idempotent). If the process dies instead, the retry starts from the
 * previous checkpoint and the router, being deterministic, decides the same thing with the same ids.
 */
export function buildTurnGraph(opts: {
  checkpointer: BaseCheckpointSaver;
  apply: (turn: TurnState, effects: Effect[]) => Promise<void>;
}) {
  return new StateGraph(TurnGraphState)
    .addNode("route", (s: TurnGraphValues) => {
      if (!s.event) return {};
      const out = route(s.turn ?? null, s.event);
      return out.turn === s.turn ? {} : { turn: out.turn };
    })
    .addNode("apply", async (s: TurnGraphValues) => {
      const turn = s.turn!;
      await opts.apply(turn, turn.outbox);
      return { turn: { ...turn, outbox: [] } };
    })
    .addEdge(START, "route")
    .addConditionalEdges(
      "route",
      (s: TurnGraphValues) => (s.turn && s.turn.outbox.length > 0 ? "apply" : END),
      ["apply", END],
    )
    .addEdge("apply", END)
    .compile({ checkpointer: opts.checkpointer, name: "turn" });
}

export type TurnGraph = ReturnType<typeof buildTurnGraph>;

/** Feeds one event to a turn's thread and runs it to its next wait; returns the turn state after it. */
export async function runTurnStep(
  graph: TurnGraph,
  turnId: string,
  event: TurnEvent,
): Promise<TurnState | null> {
  const out = await graph.invoke({ event }, { configurable: { thread_id: turnId }, durability: "exit" });
  return (out.turn as TurnState | null | undefined) ?? null;
}

/** The saved state of a turn's thread, or null when it has none. */
export async function readTurnState(graph: TurnGraph, turnId: string): Promise<TurnState | null> {
  const snapshot = await graph.getState({ configurable: { thread_id: turnId } });
  return ((snapshot.values as Partial<TurnGraphValues>).turn as TurnState | null | undefined) ?? null;
}
