import {
  type ControlFrame,
  cutCodePoints,
  type Message,
  type ServerFrame,
  type TurnEndReason,
} from "@synapse/shared";

/**
 * A frame ready to go out: serialised once, encoded once, and the same buffer handed to every socket
 * of the group. `seq` is set on `message` frames (the order of record), `turnId` on turn-scoped ones.
 */
export interface OutFrame {
  readonly data: Buffer;
  readonly seq: number | undefined;
  readonly turnId: string | undefined;
  readonly type: ServerFrame["type"];
}

export function outFrame(frame: ServerFrame): OutFrame {
  return {
    data: Buffer.from(JSON.stringify(frame)),
    seq: frame.type === "message" ? frame.message.seq : undefined,
    turnId: frame.type === "message" ? (frame.message.turn_id ?? undefined) : frame.turn_id,
    type: frame.type,
  };
}

export function messageFrame(message: Message): OutFrame {
  return outFrame({ type: "message", message });
}

export type ParsedGroupFrame =
  | { kind: "server"; frame: ServerFrame }
  | { kind: "control"; frame: ControlFrame }
  | { kind: "invalid"; reason: string };

const END_REASONS = new Set<TurnEndReason>(["completed", "awaiting_user", "max_steps", "cancelled", "error"]);

type Obj = Record<string, unknown>;

function asMessage(v: unknown): Message | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const m = v as Obj;
  if (
    typeof m.id !== "string" ||
    typeof m.group_id !== "string" ||
    !Number.isSafeInteger(m.seq) ||
    (m.seq as number) < 1
  )
    return undefined;
  const message = m as unknown as Message;
  return {
    id: message.id,
    group_id: message.group_id,
    seq: message.seq,
    turn_id: message.turn_id ?? null,
    sender_type: message.sender_type,
    sender_alias: message.sender_alias,
    sender_user_id: message.sender_user_id ?? null,
    content: message.content,
    tool_calls: message.tool_calls ?? null,
    tool_call_id: message.tool_call_id ?? null,
    created_at: message.created_at,
    meta: message.meta ?? null,
  };
}

/**
 * Reads one frame from a group channel. Publishers send frames exactly as clients get them; this
 * keeps only the fields SPEC §4 lists, so nothing internal leaks to a client, and rejects frames of
 * another group or with missing fields.
 */
export function parseGroupFrame(raw: string, groupId: string): ParsedGroupFrame {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return { kind: "invalid", reason: "not JSON" };
  }
  if (typeof v !== "object" || v === null || Array.isArray(v))
    return { kind: "invalid", reason: "not an object" };
  const o = v as Obj;
  const type = o.type;
  if (type === "message") {
    const message = asMessage(o.message);
    if (!message || message.group_id !== groupId) return { kind: "invalid", reason: "bad message" };
    return { kind: "server", frame: { type, message } };
  }
  if (type === "_group.deleted") return { kind: "control", frame: { type, group_id: groupId } };
  if (typeof type !== "string") return { kind: "invalid", reason: "no type" };
  if (o.group_id !== groupId) return { kind: "invalid", reason: "wrong group_id" };
  if (type === "_participant.removed")
    return typeof o.user_id === "string"
      ? { kind: "control", frame: { type, group_id: groupId, user_id: o.user_id } }
      : { kind: "invalid", reason: "no user_id" };
  if (typeof o.turn_id !== "string") return { kind: "invalid", reason: "no turn_id" };
  const base = { group_id: groupId, turn_id: o.turn_id };
  switch (type) {
    case "_turn.cancelled":
      return { kind: "control", frame: { type, ...base } };
    case "turn.started":
      return typeof o.message_id === "string"
        ? { kind: "server", frame: { type, ...base, message_id: o.message_id } }
        : { kind: "invalid", reason: "no message_id" };
    case "turn.ended":
      return typeof o.reason === "string" && END_REASONS.has(o.reason as TurnEndReason)
        ? { kind: "server", frame: { type, ...base, reason: o.reason as TurnEndReason } }
        : { kind: "invalid", reason: "bad reason" };
    case "agent.started":
    case "agent.finished":
      return typeof o.alias === "string"
        ? { kind: "server", frame: { type, ...base, alias: o.alias } }
        : { kind: "invalid", reason: "no alias" };
    case "token":
      return typeof o.alias === "string" && typeof o.message_id === "string" && typeof o.delta === "string"
        ? {
            kind: "server",
            frame: { type, ...base, alias: o.alias, message_id: o.message_id, delta: o.delta },
          }
        : { kind: "invalid", reason: "bad token frame" };
    default:
      return { kind: "invalid", reason: `unknown type ${cutCodePoints(type, 40)}` };
  }
}

/** Frames a client may send. Only `ping` exists; anything else is answered with an `error` frame. */
export type ClientFrameResult =
  | { ok: true; reply: Buffer }
  | { ok: false; code: "binary_frame" | "invalid_json" | "unknown_frame"; detail: string };

const PONG = Buffer.from(JSON.stringify({ type: "pong" }));

export function readClientFrame(data: Buffer, isBinary: boolean): ClientFrameResult {
  if (isBinary)
    return { ok: false, code: "binary_frame", detail: "binary frames are not accepted; send JSON text" };
  let v: unknown;
  try {
    v = JSON.parse(data.toString("utf8"));
  } catch {
    return { ok: false, code: "invalid_json", detail: "frame is not valid JSON" };
  }
  if (typeof v === "object" && v !== null && (v as Obj).type === "ping") return { ok: true, reply: PONG };
  return {
    ok: false,
    code: "unknown_frame",
    detail: 'unknown frame; the only client frame is {"type":"ping"}',
  };
}

export function errorFrame(code: string, detail: string): Buffer {
  return Buffer.from(JSON.stringify({ type: "error", detail, code }));
}
