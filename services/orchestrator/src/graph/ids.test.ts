import { advanceJobSchema } from "@synapse/shared";
import { describe, expect, it } from "vitest";
import { dispatchId, noticeId, uuidFromName } from "./ids.ts";

describe("ids", () => {
  it("are deterministic, distinct and valid UUIDs (version 5)", () => {
    const t = "0b6c3c1e-7c1a-4f3e-9a43-3f3f1f7d9a10";
    expect(dispatchId(t, "start", 0)).toBe(dispatchId(t, "start", 0));
    const all = new Set([
      dispatchId(t, "start", 0),
      dispatchId(t, "start", 1),
      dispatchId(t, "x", 0),
      noticeId(t, "max_steps"),
    ]);
    expect(all.size).toBe(4);
    for (const id of all) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(advanceJobSchema.safeParse({ group_id: id }).success).toBe(true);
    }
    expect(uuidFromName("a")).not.toBe(uuidFromName("b"));
  });

  it("are the ids earlier releases derived (turns in flight across an upgrade keep theirs)", () => {
    expect(uuidFromName("a")).toBe("da05ec3b-040c-59f5-b906-6bb646d11e32");
    expect(dispatchId("0b6c3c1e-7c1a-4f3e-9a43-3f3f1f7d9a10", "start", 0)).toBe(
      "e35ef426-4f68-591f-baeb-ea2986ba8951",
    );
  });
});
