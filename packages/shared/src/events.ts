import type { Redis } from "ioredis";
import type { Message } from "./messages.ts";

export type TurnEndReason = "completed" | "awaiting_user" | "max_steps" | "cancelled" | "error";
export type TurnStatus = "queued" | "running" | "ended";

/** Frames a client receives on `/ws/{group_id}`. Published to Redis exactly as sent. */
export type ServerFrame =
  | { type: "message"; message: Message }
  | { type: "turn.started"; group_id: string; turn_id: string; message_id: string }
  | {
      type: "turn.ended";
      group_id: string;
      turn_id: string;
      reason: TurnEndReason;
      /** With reason `cancelled`: the user who cancelled it, when a person did. */
      cancelled_by?: string;
    }
  | { type: "agent.started"; group_id: string; turn_id: string; alias: string }
  | { type: "agent.finished"; group_id: string; turn_id: string; alias: string }
  | { type: "token"; group_id: string; turn_id: string; alias: string; message_id: string; delta: string }
  /** The text so far of a reply still being streamed: sent to a socket that joins mid-reply. */
  | { type: "partial"; group_id: string; turn_id: string; alias: string; message_id: string; text: string };

/**
 * A `token` frame as the worker publishes it: `offset` is where its delta starts in the reply's text,
 * which lets a gateway join the stored text so far and the live deltas without gap or repeat. The
 * gateway strips it.
 */
export type TokenEvent = Extract<ServerFrame, { type: "token" }> & { offset: number };

/**
 * Frames between processes only; a gateway acts on them and never forwards them.
 * They travel on the group's channel so that every subscriber sees them in order with the rest.
 */
export type ControlFrame =
  | { type: "_turn.cancelled"; group_id: string; turn_id: string }
  | { type: "_group.deleted"; group_id: string }
  | { type: "_participant.removed"; group_id: string; user_id: string };

export type GroupFrame = ServerFrame | ControlFrame;

/** Redis pub/sub channel of one group. */
export function groupChannel(prefix: string, groupId: string): string {
  return `${prefix}:group:${groupId}`;
}

/** Publishes a frame to its group's channel. Call it only after the data it announces is committed. */
export async function publishFrame(
  redis: Redis,
  prefix: string,
  groupId: string,
  frame: GroupFrame,
): Promise<void> {
  await redis.publish(groupChannel(prefix, groupId), JSON.stringify(frame));
}
