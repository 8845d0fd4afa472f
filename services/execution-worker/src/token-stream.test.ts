import { describe, expect, it } from "vitest";
import { TokenStream } from "./token-stream.ts";

function recorder() {
  const sent: string[] = [];
  const waiting: (() => void)[] = [];
  const publish = (d: string) =>
    new Promise<void>((resolve) => {
      sent.push(d);
      waiting.push(resolve);
    });
  return { sent, publish, release: () => waiting.shift()?.() };
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

  it("flush hands what is pending to publish at once, behind the publish in flight", async () => {
    const r = recorder();
    const s = new TokenStream(r.publish, new AbortController().signal);
    s.push("a");
    s.push("b");
    let done = false;
    const flushed = s.flush().then(() => (done = true));
    // sent before flush returned: what the caller sends next on the same connection comes after it
    expect(r.sent).toEqual(["a", "b"]);
    r.release();
    await new Promise((x) => setImmediate(x));
    expect(done).toBe(false);
    r.release();
    await flushed;
    expect(r.sent).toEqual(["a", "b"]);
  });

  it("a failed publish goes to onError; flush still resolves", async () => {
    const errors: unknown[] = [];
    const s = new TokenStream(
      async () => {
        throw new Error("redis down");
      },
      new AbortController().signal,
      (e) => errors.push(e),
    );
    s.push("a");
    await s.flush();
    expect(errors).toHaveLength(1);
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

  it("gives each delta its offset in the text published, across coalescing and retries", async () => {
    const sent: [string, number][] = [];
    const s = new TokenStream(async (d, at) => void sent.push([d, at]), new AbortController().signal);
    s.push("Hello ");
    s.push("wor");
    s.push("ld");
    await s.flush();
    s.newAttempt();
    s.push("Hello world");
    s.push("!");
    await s.flush();
    expect(sent).toEqual([
      ["Hello ", 0],
      ["world", 6],
      ["!", 11],
    ]);
  });
});
