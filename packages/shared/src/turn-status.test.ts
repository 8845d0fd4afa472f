import { describe, expect, it } from "vitest";
import { turnTransition } from "./turn-status.ts";

const progress = { steps: 2, usage: {} };

describe("turnTransition", () => {
  it("starts a queued turn once, counting the progress of the step that starts it", () => {
    expect(turnTransition("queued", { begin: true, progress })).toEqual({
      status: "running",
      starts: true,
      ends: false,
      progresses: true,
    });
    expect(turnTransition("running", { begin: true })).toBeUndefined();
  });

  it("records progress only while the turn runs", () => {
    expect(turnTransition("running", { progress })).toMatchObject({ status: "running", progresses: true });
    expect(turnTransition("queued", { progress })).toBeUndefined();
    expect(turnTransition("ended", { progress })).toBeUndefined();
  });

  it("ends a queued or running turn once", () => {
    expect(turnTransition("queued", { end: "cancelled" })).toMatchObject({ status: "ended", ends: true });
    expect(turnTransition("running", { progress, end: "completed" })).toEqual({
      status: "ended",
      starts: false,
      ends: true,
      progresses: true,
    });
    expect(turnTransition("ended", { end: "completed" })).toBeUndefined();
  });
});
