import { describe, expect, it } from "vitest";
import { CalculatorError, evaluate, formatNumber } from "./calculator.ts";

describe("calculator", () => {
  it.each([
    ["1 + 2 * 3", 7],
    ["(1 + 2) * 3", 9],
    ["2 ^ 3 ^ 2", 512],
    ["2 ** 10", 1024],
    ["-2 ^ 2", -4],
    ["(-2) ^ 2", 4],
    ["10 % 4", 2],
    ["7 / 2", 3.5],
    ["--3", 3],
    ["1.5e3 + .5", 1500.5],
    ["sqrt(16) + abs(-2)", 6],
    ["max(1, 5, 3) - min(4, 2)", 3],
    ["round(3.14159, 2)", 3.14],
    ["round(2.5)", 3],
    ["2 * pi", 2 * Math.PI],
    ["e", Math.E],
    ["6 × 7 ÷ 2", 21],
  ])("%s = %d", (expr, want) => {
    expect(evaluate(expr)).toBeCloseTo(want, 12);
  });

  it.each([
    ["", "empty"],
    ["1 +", "end"],
    ["(1 + 2", 'expected ")"'],
    ["1 / 0", "division by zero"],
    ["5 % 0", "division by zero"],
    ["sqrt(-1)", "negative"],
    ["foo(1)", 'unknown name "foo"'],
    ["process.exit()", 'unexpected character "."'],
    ["constructor(1)", 'unknown name "constructor"'],
    ["__proto__", 'unknown name "__proto__"'],
    ["toString", 'unknown name "tostring"'],
    ["1; 2", 'unexpected character ";"'],
    ["1 2", 'unexpected "2"'],
    ["sqrt(1, 2)", "takes 1"],
    ["10 ^ 400", "finite"],
  ])("rejects %j (%s)", (expr, why) => {
    expect(() => evaluate(expr)).toThrow(CalculatorError);
    expect(() => evaluate(expr)).toThrow(why);
  });

  it("rejects absurd nesting without blowing the stack", () => {
    expect(() => evaluate(`${"(".repeat(500)}1${")".repeat(500)}`)).toThrow("nested too deeply");
  });

  it("formats without floating-point noise", () => {
    expect(formatNumber(evaluate("0.1 + 0.2"))).toBe("0.3");
    expect(formatNumber(evaluate("1 / 3"))).toBe("0.333333333333333");
    expect(formatNumber(evaluate("-0"))).toBe("0");
    expect(formatNumber(42)).toBe("42");
  });
});
