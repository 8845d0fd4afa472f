import { describe, expect, it } from "vitest";
import { withDeadline } from "./deadline.ts";

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("withDeadline", () => {
  it("aborts at the deadline, as a timeout", async () => {
    const d = withDeadline(new AbortController().signal, 20);
    await wait(60);
    expect(d.signal.aborted).toBe(true);
    expect(d.timedOut).toBe(true);
    expect((d.signal.reason as DOMException).name).toBe("TimeoutError");
  });

  it("aborts with its parent, with the parent's reason, not as a timeout", () => {
    const parent = new AbortController();
    const d = withDeadline(parent.signal, 10_000);
    parent.abort(new Error("cancelled"));
    expect(d.signal.aborted).toBe(true);
    expect(d.timedOut).toBe(false);
    expect((d.signal.reason as Error).message).toBe("cancelled");
    d.release();
    expect(withDeadline(parent.signal, 10_000).signal.aborted).toBe(true);
  });

  it("once released, neither the deadline nor the parent aborts it", async () => {
    const parent = new AbortController();
    const d = withDeadline(parent.signal, 20);
    d.release();
    parent.abort();
    await wait(60);
    expect(d.signal.aborted).toBe(false);
    expect(d.timedOut).toBe(false);
  });
});
