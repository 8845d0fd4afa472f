import { describe, expect, it } from "vitest";
import { findExpression } from "./demo.ts";

describe("findExpression", () => {
  it.each([
    ["what is 12 * (3 + 4)?", "12 * (3 + 4)"],
    ["compute 2+2 please", "2+2"],
    ["(5 - 1) / 2 is what", "(5 - 1) / 2"],
    ["1,000 * 3", "1000 * 3"],
  ])("%j → %j", (text, want) => {
    expect(findExpression(text)).toBe(want);
  });

  it.each(["hello there", "in 2026 we met", "call me at 5"])("finds none in %j", (text) => {
    expect(findExpression(text)).toBeUndefined();
  });
});
