import { describe, expect, it } from "vitest";
import type { Message } from "../lib/types.ts";
import { type ChatAction, type ChatFrame, chatReducer, firstSeq, initialChat, lastSeq } from "./store.ts";

const G = "g1";

function msg(seq: number, over: Partial<Message> = {}): Message {
  return {
    id: `m${seq}`,
    group_id: G,
    seq,
    turn_id: "t1",
    sender_type: "agent",
    sender_alias: "Calc",
    sender_user_id: null,
    content: `text ${seq}`,
    tool_calls: null,
    tool_call_id: null,
    created_at: "2026-12-06T00:00:00.000Z",
    meta: null,
    ...over,
  };
}

const frame = (f: ChatFrame): ChatAction => ({ type: "frame", frame: f });
const run = (...actions: ChatAction[]) => actions.reduce(chatReducer, initialChat);
const token = (message_id: string, delta: string, alias = "Calc", turn_id = "t1"): ChatAction =>
  frame({ type: "token", group_id: G, turn_id, alias, message_id, delta });

describe("chatReducer", () => {
  it("orders messages by seq whatever order they arrive in, and keeps one copy of each", () => {
    const s = run(
      frame({ type: "message", message: msg(3) }),
      { type: "page", messages: [msg(1), msg(2)], complete: false },
      frame({ type: "message", message: msg(2) }),
      frame({ type: "message", message: msg(5) }),
      frame({ type: "message", message: msg(4) }),
      frame({ type: "message", message: msg(3) }),
    );
    expect(s.order).toEqual(["m1", "m2", "m3", "m4", "m5"]);
    expect(lastSeq(s)).toBe(5);
    expect(firstSeq(s)).toBe(1);
  });

  it("prepends an older page and marks the history complete", () => {
    const s = run(
      { type: "page", messages: [msg(51), msg(52)], complete: false },
      { type: "page", messages: [msg(49), msg(50)], complete: true },
    );
    expect(s.order).toEqual(["m49", "m50", "m51", "m52"]);
    expect(s.hasOlder).toBe(false);
  });

  it("streams tokens into one bubble per message id, several at once", () => {
    const s = run(
      token("a", "Hel", "A"),
      token("b", "Wor", "B"),
      token("a", "lo", "A"),
      token("b", "ld", "B"),
    );
    expect(s.streamOrder).toEqual(["a", "b"]);
    expect(s.streams.a).toMatchObject({ alias: "A", text: "Hello" });
    expect(s.streams.b).toMatchObject({ alias: "B", text: "World" });
  });

  it("replaces the streamed text with the final message and ignores its late tokens", () => {
    const final = msg(7, { id: "a", content: "Hello, final." });
    const s = run(token("a", "Hel"), frame({ type: "message", message: final }), token("a", "lo"));
    expect(s.streams).toEqual({});
    expect(s.streamOrder).toEqual([]);
    expect(s.byId.a?.content).toBe("Hello, final.");
  });

  it("sets a bubble's text from a partial frame, then appends tokens", () => {
    const s = run(
      frame({ type: "partial", group_id: G, turn_id: "t1", alias: "Calc", message_id: "a", text: "One two" }),
      token("a", " three"),
    );
    expect(s.streams.a?.text).toBe("One two three");
  });

  it("tracks the turn: running, who works, ended with its reason; drops unfinished streams", () => {
    let s = run(
      frame({ type: "turn.started", group_id: G, turn_id: "t1", message_id: "m1" }),
      frame({ type: "agent.started", group_id: G, turn_id: "t1", alias: "A" }),
      frame({ type: "agent.started", group_id: G, turn_id: "t1", alias: "B" }),
      frame({ type: "agent.finished", group_id: G, turn_id: "t1", alias: "A" }),
      token("x", "half a rep", "B"),
    );
    expect(s.running).toBe("t1");
    expect(s.turns.t1).toMatchObject({ status: "running", working: ["B"] });
    s = chatReducer(s, { type: "cancelling", turn_id: "t1", by: "you" });
    expect(s.turns.t1?.cancelling).toBe(true);
    s = chatReducer(s, frame({ type: "turn.ended", group_id: G, turn_id: "t1", reason: "cancelled" }));
    expect(s.running).toBeNull();
    expect(s.turns.t1).toMatchObject({ status: "ended", reason: "cancelled", working: [], stoppedBy: "you" });
    expect(s.turns.t1?.cancelling).toBe(false);
    expect(s.streams).toEqual({});
    // frames of the ended turn arriving late change nothing
    const late = [
      token("x", "ly", "B"),
      frame({ type: "agent.started", group_id: G, turn_id: "t1", alias: "A" }),
      frame({ type: "turn.started", group_id: G, turn_id: "t1", message_id: "m1" }),
    ].reduce(chatReducer, s);
    expect(late).toEqual(s);
  });

  it("keeps who cancelled a turn, from its turn.ended or from the turn's status", () => {
    let s = run(frame({ type: "turn.started", group_id: G, turn_id: "t1", message_id: "m1" }));
    s = chatReducer(
      s,
      frame({ type: "turn.ended", group_id: G, turn_id: "t1", reason: "cancelled", cancelled_by: "u2" }),
    );
    expect(s.turns.t1).toMatchObject({ status: "ended", reason: "cancelled", stoppedBy: "u2" });
    // Stop pressed here, but another person's cancel won: the server's word stands
    s = chatReducer(s, frame({ type: "turn.started", group_id: G, turn_id: "t2", message_id: "m2" }));
    s = chatReducer(s, { type: "cancelling", turn_id: "t2", by: "you" });
    s = chatReducer(s, {
      type: "turn.status",
      turn_id: "t2",
      status: "ended",
      reason: "cancelled",
      cancelled_by: "u3",
    });
    expect(s.turns.t2).toMatchObject({ status: "ended", stoppedBy: "u3" });
  });

  it("marks a message posted during a running turn as queued until its turn starts", () => {
    let s = run(frame({ type: "turn.started", group_id: G, turn_id: "t1", message_id: "m1" }));
    s = chatReducer(s, { type: "posted", message: msg(2, { turn_id: "t2", sender_type: "user" }) });
    expect(s.turns.t2?.status).toBe("queued");
    // the echo of the same message on the socket changes nothing
    expect(chatReducer(s, frame({ type: "message", message: msg(2, { turn_id: "t2" }) }))).toBe(s);
    s = chatReducer(s, frame({ type: "turn.ended", group_id: G, turn_id: "t1", reason: "completed" }));
    s = chatReducer(s, frame({ type: "turn.started", group_id: G, turn_id: "t2", message_id: "m2" }));
    expect(s.turns.t2?.status).toBe("running");
    expect(s.running).toBe("t2");
  });

  it("a posted message with no turn running is not queued", () => {
    const s = run({ type: "posted", message: msg(1, { turn_id: "t9", sender_type: "user" }) });
    expect(s.turns.t9).toBeUndefined();
  });

  it("a turn's status from the API merges with what frames said", () => {
    const usage = { input_tokens: 10, output_tokens: 5 };
    let s = run({ type: "turn.status", turn_id: "t1", status: "running" });
    expect(s.running).toBe("t1");
    s = chatReducer(s, { type: "turn.status", turn_id: "t1", status: "ended", reason: "completed", usage });
    expect(s.turns.t1).toMatchObject({ status: "ended", reason: "completed", usage });
    expect(chatReducer(s, { type: "turn.status", turn_id: "t1", status: "running" })).toBe(s);
  });
});
