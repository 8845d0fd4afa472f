/**
 * The chat's state as a pure reducer: history pages, socket frames and the user's own actions in,
 * ordered messages, streaming bubbles and turn state out. Frames may repeat (a reconnect replays
 * messages) or arrive out of order (a page loaded while frames stream): messages are kept by id
 * and ordered by seq, so the same input in any order gives the same list.
 */
import type { Message, TurnEndReason } from "../lib/types.ts";

/** A frame the page reacts to: the server's frames plus `partial` (a reply's text so far). */
export type ChatFrame =
  | { type: "message"; message: Message }
  | { type: "turn.started"; group_id: string; turn_id: string; message_id: string }
  | { type: "turn.ended"; group_id: string; turn_id: string; reason: TurnEndReason; cancelled_by?: string }
  | { type: "agent.started" | "agent.finished"; group_id: string; turn_id: string; alias: string }
  | { type: "token"; group_id: string; turn_id: string; alias: string; message_id: string; delta: string }
  | { type: "partial"; group_id: string; turn_id: string; alias: string; message_id: string; text: string };

/** A reply still streaming: its text grows until its final `message` replaces it. */
export interface Stream {
  id: string;
  turn_id: string;
  alias: string;
  text: string;
}

export interface Usage {
  input_tokens: number;
  output_tokens: number;
}

export interface TurnState {
  id: string;
  status: "queued" | "running" | "ended";
  reason?: TurnEndReason;
  /** Agents between `agent.started` and `agent.finished`. */
  working: string[];
  /** Stop was pressed here; shown until `turn.ended` arrives. */
  cancelling?: boolean;
  /** Who stopped it: the canceller's user id as the server tells it, or `you` when Stop was pressed here. */
  stoppedBy?: string;
  usage?: Usage;
}

export interface ChatState {
  /** Messages by id. */
  byId: Record<string, Message>;
  /** Message ids in seq order. */
  order: string[];
  /** Streams by message id, in the order they began. */
  streams: Record<string, Stream>;
  streamOrder: string[];
  turns: Record<string, TurnState>;
  /** The turn the group is running, if this page knows of one. */
  running: string | null;
  /** The turn that ended last, for its reason and usage. */
  lastEnded: string | null;
  /** Whether older messages than the first loaded may exist. */
  hasOlder: boolean;
}

export type ChatAction =
  | { type: "frame"; frame: ChatFrame }
  /** A page of history (oldest first); `complete` when nothing older exists. */
  | { type: "page"; messages: Message[]; complete: boolean }
  /** The 202 of the user's own post: its turn waits if another one runs. */
  | { type: "posted"; message: Message }
  | {
      type: "turn.status";
      turn_id: string;
      status: TurnState["status"];
      reason?: TurnEndReason;
      usage?: Usage;
      cancelled_by?: string;
    }
  | { type: "cancelling"; turn_id: string; by: string };

export const initialChat: ChatState = {
  byId: {},
  order: [],
  streams: {},
  streamOrder: [],
  turns: {},
  running: null,
  lastEnded: null,
  hasOlder: true,
};

function seqOf(s: ChatState, id: string): number {
  return s.byId[id]?.seq ?? 0;
}

/** Adds messages not yet known, keeping `order` sorted by seq; drops the streams they finish. */
function addMessages(s: ChatState, messages: Message[]): ChatState {
  const fresh = messages.filter((m) => !s.byId[m.id]);
  if (fresh.length === 0) return s;
  const byId = { ...s.byId };
  for (const m of fresh) byId[m.id] = m;
  let order: string[];
  const last = s.order.at(-1);
  const sortedFresh = fresh.map((m) => m.id).sort((a, b) => byId[a]!.seq - byId[b]!.seq);
  if (last === undefined || byId[sortedFresh[0]!]!.seq > byId[last]!.seq)
    order = [...s.order, ...sortedFresh];
  else if (byId[sortedFresh.at(-1)!]!.seq < byId[s.order[0]!]!.seq) order = [...sortedFresh, ...s.order];
  else order = [...s.order, ...sortedFresh].sort((a, b) => byId[a]!.seq - byId[b]!.seq);
  let { streams, streamOrder } = s;
  if (fresh.some((m) => streams[m.id])) {
    streams = { ...streams };
    for (const m of fresh) delete streams[m.id];
    streamOrder = streamOrder.filter((id) => streams[id]);
  }
  return { ...s, byId, order, streams, streamOrder };
}

function setTurn(s: ChatState, id: string, patch: Partial<TurnState>): ChatState {
  const prev = s.turns[id] ?? { id, status: "queued", working: [] };
  return { ...s, turns: { ...s.turns, [id]: { ...prev, ...patch } } };
}

/** Sets or extends a stream, unless its final message is already here. */
function stream(
  s: ChatState,
  f: { turn_id: string; alias: string; message_id: string },
  text: (prev: string) => string,
) {
  if (s.byId[f.message_id]) return s;
  // frames of an ended turn that arrive late (a cancel) must not revive a bubble
  if (s.turns[f.turn_id]?.status === "ended") return s;
  const prev = s.streams[f.message_id];
  const next: Stream = { id: f.message_id, turn_id: f.turn_id, alias: f.alias, text: text(prev?.text ?? "") };
  return {
    ...s,
    streams: { ...s.streams, [f.message_id]: next },
    streamOrder: prev ? s.streamOrder : [...s.streamOrder, f.message_id],
  };
}

/** Ends a turn: its streams that never got a final message are dropped (cancelled or failed). */
function endTurn(
  s: ChatState,
  turnId: string,
  end: { reason?: TurnEndReason | undefined; usage?: Usage | undefined; cancelled_by?: string | undefined },
): ChatState {
  let next = setTurn(s, turnId, {
    status: "ended",
    working: [],
    cancelling: false,
    ...(end.reason ? { reason: end.reason } : {}),
    ...(end.usage ? { usage: end.usage } : {}),
    ...(end.cancelled_by ? { stoppedBy: end.cancelled_by } : {}),
  });
  const orphans = next.streamOrder.filter((id) => next.streams[id]?.turn_id === turnId);
  if (orphans.length > 0) {
    const streams = { ...next.streams };
    for (const id of orphans) delete streams[id];
    next = { ...next, streams, streamOrder: next.streamOrder.filter((id) => streams[id]) };
  }
  return { ...next, running: next.running === turnId ? null : next.running, lastEnded: turnId };
}

function onFrame(s: ChatState, f: ChatFrame): ChatState {
  switch (f.type) {
    case "message": {
      let next = addMessages(s, [f.message]);
      const m = f.message;
      // a person's message arriving while another turn runs waits for it
      if (next !== s && m.sender_type === "user" && m.turn_id && !next.turns[m.turn_id] && next.running)
        next = setTurn(next, m.turn_id, { status: "queued" });
      return next;
    }
    case "turn.started": {
      if (s.turns[f.turn_id]?.status === "ended") return s;
      return { ...setTurn(s, f.turn_id, { status: "running" }), running: f.turn_id };
    }
    case "turn.ended":
      return endTurn(s, f.turn_id, f);
    case "agent.started":
    case "agent.finished": {
      const t = s.turns[f.turn_id];
      if (t?.status === "ended") return s;
      const working = (t?.working ?? []).filter((a) => a !== f.alias);
      if (f.type === "agent.started") working.push(f.alias);
      return { ...setTurn(s, f.turn_id, { status: "running", working }), running: f.turn_id };
    }
    case "token":
      return stream(s, f, (prev) => prev + f.delta);
    case "partial":
      return stream(s, f, () => f.text);
  }
}

export function chatReducer(s: ChatState, a: ChatAction): ChatState {
  switch (a.type) {
    case "frame":
      return onFrame(s, a.frame);
    case "page": {
      const next = addMessages(s, a.messages);
      return a.complete ? { ...next, hasOlder: false } : next;
    }
    case "posted": {
      const next = addMessages(s, [a.message]);
      const t = a.message.turn_id;
      if (!t || next.turns[t]) return next;
      return next.running && next.running !== t ? setTurn(next, t, { status: "queued" }) : next;
    }
    case "turn.status": {
      if (a.status === "ended") return endTurn(s, a.turn_id, a);
      const prev = s.turns[a.turn_id];
      if (prev?.status === "ended") return s;
      const next = setTurn(s, a.turn_id, { status: a.status });
      return a.status === "running" ? { ...next, running: a.turn_id } : next;
    }
    case "cancelling": {
      if (s.turns[a.turn_id]?.status === "ended") return s;
      return setTurn(s, a.turn_id, { cancelling: true, stoppedBy: a.by });
    }
  }
}

/** The seq of the newest message held (what a socket resumes after). */
export function lastSeq(s: ChatState): number {
  const last = s.order.at(-1);
  return last ? seqOf(s, last) : 0;
}

/** The seq of the oldest message held (the `before` of the next older page). */
export function firstSeq(s: ChatState): number | undefined {
  const first = s.order[0];
  return first ? seqOf(s, first) : undefined;
}

/** Tool results by the tool call they answer. */
export function toolResults(s: ChatState): Map<string, Message> {
  const out = new Map<string, Message>();
  for (const id of s.order) {
    const m = s.byId[id]!;
    if (m.sender_type === "tool" && m.tool_call_id) out.set(m.tool_call_id, m);
  }
  return out;
}
