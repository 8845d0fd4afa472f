import { isUuid, type PartialReply, readPartials } from "@synapse/shared";
import type { Redis } from "ioredis";
import type pg from "pg";
import { type OutFrame, outFrame } from "./frames.ts";
import { readRunningTurn } from "./store.ts";

/** A group's running turn as a socket that joins it must be told: the turn, and its replies in progress. */
export interface TurnState {
  turn: { id: string; message_id: string } | undefined;
  /** Replies of the running turn still being streamed (no message with their id is stored). */
  replies: PartialReply[];
  /** Ids of replies whose text is still kept but whose message is stored: nothing more of them goes out. */
  finished: string[];
}

/**
 * Reads the running turn of a group. The reply texts are read before the database: a reply whose
 * message is stored by then is left out (its `message` frame has been or will be sent first), and
 * one stored later has its `message` frame come after this state.
 */
export async function readTurnState(
  redis: Redis,
  pool: pg.Pool,
  prefix: string,
  groupId: string,
): Promise<TurnState> {
  const partials = (await readPartials(redis, prefix, groupId)).filter((r) => isUuid(r.message_id));
  const { turn, stored } = await readRunningTurn(
    pool,
    groupId,
    partials.map((r) => r.message_id),
  );
  const finished = [...stored];
  if (!turn) return { turn, replies: [], finished };
  const replies = partials.filter((r) => r.turn_id === turn.id && !stored.has(r.message_id));
  return { turn, replies, finished };
}

/** `agent.started` of each agent with a reply in progress (clients take a repeat as a no-op). */
export function agentFrames(groupId: string, replies: PartialReply[]): OutFrame[] {
  const seen = new Set<string>();
  const frames: OutFrame[] = [];
  for (const { alias, turn_id } of replies) {
    if (seen.has(alias)) continue;
    seen.add(alias);
    frames.push(outFrame({ type: "agent.started", group_id: groupId, turn_id, alias }));
  }
  return frames;
}

/** The `partial` frame of a reply: its text so far. */
export function partialFrame(groupId: string, reply: PartialReply & { text: string }): OutFrame {
  const { message_id, turn_id, alias, text } = reply;
  return outFrame({ type: "partial", group_id: groupId, turn_id, alias, message_id, text });
}
