import {
  type ControlFrame,
  cutCodePoints,
  type Message,
  type ServerFrame,
  type TurnEndReason,
} from "@synapse/shared";

export type TokenFrame = Extract<ServerFrame, { type: "token" }>;
export type PartialFrame = Extract<ServerFrame, { type: "partial" }>;

/**
 * The part of a reply's text a `token` or `partial` frame carries: characters `[start, end)`. A
 * `partial` carries the whole text so far (`start` 0). The frame is kept to cut it short.
 */
export interface ReplySpan {
  readonly messageId: string;
  readonly start: number;
  readonly end: number;
  readonly frame: TokenFrame | PartialFrame;
}

/**
 * A frame ready to go out: serialised once, encoded once, and the same buffer handed to every socket
 * of the group. `seq` is set on `message` frames (the order of record), `turnId` on turn-scoped ones,
 * `messageId` on `message` frames, `span` on `token` frames with an offset and on `partial` frames.
 */
export interface OutFrame {
  readonly data: Buffer;
  readonly seq: number | undefined;
  readonly turnId: string | undefined;
  readonly type: ServerFrame["type"];
  readonly messageId?: string;
  readonly span?: ReplySpan;
}

export function outFrame(frame: ServerFrame): OutFrame {
  const data = Buffer.from(JSON.stringify(frame));
  if (frame.type === "message") {
    const { seq, id, turn_id } = frame.message;
    return { data, seq, turnId: turn_id ?? undefined, type: frame.type, messageId: id };
  }
  if (frame.type === "partial") {
    const span = { messageId: frame.message_id, start: 0, end: frame.text.length, frame };
    return { data, seq: undefined, turnId: frame.turn_id, type: frame.type, span };
  }
  return { data, seq: undefined, turnId: frame.turn_id, type: frame.type };
}

/** A `token` frame whose delta starts at `offset` of its reply's text (the offset is not sent). */
export function tokenFrame(frame: TokenFrame, offset: number): OutFrame {
  const span = { messageId: frame.message_id, start: offset, end: offset + frame.delta.length, frame };
  return { ...outFrame(frame), span };
}

/** What a `token` or `partial` frame carries from `from` on in its reply's text, as a `token` frame. */
export function tokenFrom(span: ReplySpan, from: number): OutFrame {
  const { group_id, turn_id, alias, message_id } = span.frame;
  const text = span.frame.type === "token" ? span.frame.delta : span.frame.text;
  const delta = text.slice(from - span.start);
  return tokenFrame({ type: "token", group_id, turn_id, alias, message_id, delta }, from);
}

export function messageFrame(message: Message): OutFrame {
  return outFrame({ type: "message", message });
}

export type ParsedGroupFrame =
  | { kind: "server"; frame: ServerFrame }
  | { kind: "token"; frame: TokenFrame; offset: number }
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
 * keeps only the documented fields of its type, so nothing internal leaks to a client, and rejects frames of
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
        ? {
            kind: "server",
            frame: {
              type,
              ...base,
              reason: o.reason as TurnEndReason,
              ...(typeof o.cancelled_by === "string" ? { cancelled_by: o.cancelled_by } : {}),
            },
          }
        : { kind: "invalid", reason: "bad reason" };
    case "agent.started":
    case "agent.finished":
      return typeof o.alias === "string"
        ? { kind: "server", frame: { type, ...base, alias: o.alias } }
        : { kind: "invalid", reason: "no alias" };
    case "token": {
      if (typeof o.alias !== "string" || typeof o.message_id !== "string" || typeof o.delta !== "string")
        return { kind: "invalid", reason: "bad token frame" };
      const frame = { type, ...base, alias: o.alias, message_id: o.message_id, delta: o.delta };
      // a token without an offset cannot be joined to stored text: it is passed on as it is
      return Number.isSafeInteger(o.offset) && (o.offset as number) >= 0
        ? { kind: "token", frame, offset: o.offset as number }
        : { kind: "server", frame };
    }
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
