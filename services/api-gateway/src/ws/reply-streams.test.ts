import { describe, expect, it } from "vitest";
import type { OutFrame, TokenFrame } from "./frames.ts";
import { ReplyStreams } from "./reply-streams.ts";

const G = "g1";
const T = "t1";

function token(delta: string, messageId = "m1"): TokenFrame {
  return { type: "token", group_id: G, turn_id: T, alias: "Ann", message_id: messageId, delta };
}

function sent(out: OutFrame | OutFrame[] | undefined | "gap"): unknown[] {
  if (out === undefined || out === "gap") return [out];
  return (Array.isArray(out) ? out : [out]).map((f) => JSON.parse(f.data.toString()));
}

const stored = (text: string | undefined) => ({ message_id: "m1", turn_id: T, alias: "Ann", text });

describe("ReplyStreams", () => {
  it("passes a reply's tokens in order and cuts what was already sent", () => {
    const s = new ReplyStreams(G);
    expect(sent(s.onToken(token("ab"), 0))).toMatchObject([{ type: "token", delta: "ab" }]);
    expect(sent(s.onToken(token("cd"), 2))).toMatchObject([{ delta: "cd" }]);
    expect(sent(s.onToken(token("cd"), 2))).toEqual([undefined]);
    expect(sent(s.onToken(token("cdef"), 2))).toEqual([
      { type: "token", group_id: G, turn_id: T, alias: "Ann", message_id: "m1", delta: "ef" },
    ]);
  });

  it("reports a gap, then fills it with the stored text and what the token adds", () => {
    const s = new ReplyStreams(G);
    s.onToken(token("ab"), 0);
    expect(s.onToken(token("ef"), 4)).toBe("gap");
    expect(sent(s.resume(token("efg"), 4, stored("abcdef")))).toEqual([
      { type: "partial", group_id: G, turn_id: T, alias: "Ann", message_id: "m1", text: "abcdef" },
      { type: "token", group_id: G, turn_id: T, alias: "Ann", message_id: "m1", delta: "g" },
    ]);
    expect(sent(s.onToken(token("h"), 7))).toMatchObject([{ delta: "h" }]);
  });

  it("a group that joins mid-reply starts from the stored text", () => {
    const s = new ReplyStreams(G);
    expect(s.onToken(token("cd"), 2)).toBe("gap");
    expect(sent(s.resume(token("cd"), 2, stored("abcd")))).toMatchObject([{ type: "partial", text: "abcd" }]);
  });

  it("sends nothing more of a reply whose text is gone, truncated or has a hole", () => {
    for (const text of [undefined, "a"]) {
      const s = new ReplyStreams(G);
      expect(s.onToken(token("cd"), 2)).toBe("gap");
      expect(s.resume(token("cd"), 2, text === undefined ? undefined : stored(text))).toEqual([]);
      expect(s.onToken(token("e"), 4)).toBeUndefined();
    }
    const s = new ReplyStreams(G);
    expect(s.resume(token("cd"), 2, stored(undefined))).toEqual([]);
    expect(s.onToken(token("e"), 4)).toBeUndefined();
  });

  it("sends nothing of a reply after its message", () => {
    const s = new ReplyStreams(G);
    s.onToken(token("ab"), 0);
    s.finish("m1", T);
    expect(s.onToken(token("c"), 2)).toBeUndefined();
    expect(s.restore([stored("abc")])).toEqual([]);
  });

  it("restores only the replies whose stored text is ahead of what went out", () => {
    const s = new ReplyStreams(G);
    s.onToken(token("abc"), 0);
    s.onToken(token("x", "m2"), 0);
    const m2 = { message_id: "m2", turn_id: T, alias: "Bob", text: "x" };
    const m3 = { message_id: "m3", turn_id: T, alias: "Cy", text: "new" };
    expect(sent(s.restore([stored("abcde"), m2, m3]))).toMatchObject([
      { type: "partial", message_id: "m1", text: "abcde" },
      { type: "partial", message_id: "m3", text: "new" },
    ]);
    expect(s.onToken(token("de"), 3)).toBeUndefined();
    expect(sent(s.onToken(token("def"), 3))).toMatchObject([{ delta: "f" }]);
  });

  it("forgets a turn's replies when it ends", () => {
    const s = new ReplyStreams(G);
    s.onToken(token("ab"), 0);
    s.endTurn(T);
    expect(s.onToken(token("c"), 2)).toBe("gap");
  });
});
