import { AGENT_COLUMNS, type AgentRow, type MessageRow, uuidLiteral } from "@synapse/shared";
import type pg from "pg";
import { windowSql } from "./context.ts";

export type { AgentRow };

/** What an LLM call reads before it starts. */
export interface CallContext {
  /** All agents of the group, the Orchestrator first (the caller and its team). */
  team: AgentRow[];
  /** The context window, oldest first (see {@link windowSql}). */
  window: MessageRow[];
  /** The status of the call's turn; null when the turn is gone. */
  turnStatus: string | null;
}

/**
 * The team, the context window and the turn's status, read in one round trip (one snapshot). A turn
 * found ended (cancelled, or ended by the sweeper) gets no call.
 */
export async function loadCallContext(
  db: pg.Pool | pg.PoolClient,
  call: { group_id: string; turn_id: string; until_seq: number },
  limit: number,
): Promise<CallContext> {
  const results = (await db.query(
    [
      `select ${AGENT_COLUMNS} from agents where group_id = ${uuidLiteral(call.group_id)}
        order by is_orchestrator desc, created_at, alias`,
      windowSql(call.group_id, call.until_seq, limit),
      `select status from turns where id = ${uuidLiteral(call.turn_id)}`,
    ].join(";\n"),
  )) as unknown as pg.QueryResult[];
  const [team, window, turn] = results;
  return {
    team: (team?.rows ?? []) as AgentRow[],
    window: (window?.rows ?? []) as MessageRow[],
    turnStatus: (turn?.rows[0] as { status: string } | undefined)?.status ?? null,
  };
}
