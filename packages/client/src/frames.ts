import type { Message } from "./types.ts";

/** Why a turn ended. */
export type TurnEndReason = "completed" | "awaiting_user" | "max_steps" | "cancelled" | "error";

/** A new message of the group, in seq order (the order of record). */
export interface MessageFrame {
  type: "message";
  message: Message;
}

export interface TurnStartedFrame {
  type: "turn.started";
  group_id: string;
  turn_id: string;
  /** The message that began the turn. */
  message_id: string;
}

export interface TurnEndedFrame {
  type: "turn.ended";
  group_id: string;
  turn_id: string;
  reason: TurnEndReason;
  /** With reason `cancelled`: the id of the user who cancelled it, when a person did. */
  cancelled_by?: string;
}

export interface AgentFrame {
  type: "agent.started" | "agent.finished";
  group_id: string;
  turn_id: string;
  alias: string;
}

/**
 * Streamed text of a reply, raw as the LLM produces it. `message_id` is the id the final message
 * will have; that `message` frame carries the authoritative text.
 */
export interface TokenFrame {
  type: "token";
  group_id: string;
  turn_id: string;
  alias: string;
  message_id: string;
  delta: string;
}

/**
 * The text so far of a reply still streaming, sent to a socket that joins mid-turn; later `token`
 * frames of the same `message_id` continue after it.
 */
export interface PartialFrame {
  type: "partial";
  group_id: string;
  turn_id: string;
  alias: string;
  message_id: string;
  text: string;
}

export interface PongFrame {
  type: "pong";
}

/** The answer to a client frame the server did not understand; the socket stays open. */
export interface ErrorFrame {
  type: "error";
  detail: string;
  code: string;
}

/** Every frame the gateway sends on `/ws/{group_id}`. */
export type ServerFrame =
  | MessageFrame
  | TurnStartedFrame
  | TurnEndedFrame
  | AgentFrame
  | TokenFrame
  | PartialFrame
  | PongFrame
  | ErrorFrame;
