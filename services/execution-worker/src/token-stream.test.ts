import { describe, expect, it } from "vitest";
import { TokenStream } from "./token-stream.ts";

function recorder() {
  const sent: string[] = [];
  let release: (() => void) | undefined;
  const publish = (d: string) =>
    new Promise<void>((resolve) => {
      sent.push(d);
      release = resolve;
    });
  return { sent, publish, release: () => release?.() };
}

describe("TokenStream", () => {
  it("sends the first delta at once and coalesces what arrives meanwhile", async () => {
    const r = recorder();
    const s = new TokenStream(r.publish, new AbortController().signal);
    s.push("a");
    s.push("b");
    s.push("c");
    expect(r.sent).toEqual(["a"]);
    r.release();
    await new Promise((x) => setImmediate(x));
    expect(r.sent).toEqual(["a", "bc"]);
    r.release();
    await s.flush();
  });

  it("publishes nothing after the abort", async () => {
    const r = recorder();
    const ac = new AbortController();
    const s = new TokenStream(r.publish, ac.signal);
    s.push("a");
    s.push("b");
    ac.abort();
    r.release();
    s.push("c");
    await s.flush();
    expect(r.sent).toEqual(["a"]);
  });

  it("does not repeat text already published when a call is retried", async () => {
    const sent: string[] = [];
    const s = new TokenStream(async (d) => void sent.push(d), new AbortController().signal);
    s.push("Hello ");
    s.push("wor");
    await s.flush();
    s.newAttempt();
    s.push("Hello ");
    s.push("world");
    s.push("!");
    await s.flush();
    expect(sent.join("")).toBe("Hello world!");
  });
});
