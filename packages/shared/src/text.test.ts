import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clip, cutCodePoints, cutGraphemes, lastCodePoints, parseDecimalInt, wellFormed } from "./text.ts";

const FAMILY = "👩‍👩‍👧"; // 8 UTF-16 units, one grapheme
const E_ACUTE = "e\u0301"; // é as e + combining acute accent
const MATH = "𝕏𝕪𝕫"; // three astral letters, 6 units

describe("cutCodePoints", () => {
  it("never ends inside a surrogate pair", () => {
    expect(cutCodePoints(MATH, 3)).toBe("𝕏");
    expect(cutCodePoints(MATH, 4)).toBe("𝕏𝕪");
    expect(cutCodePoints(`a${MATH}`, 2)).toBe("a");
    expect(cutCodePoints(MATH, 1)).toBe("");
    expect(cutCodePoints(MATH, 0)).toBe("");
  });

  it("leaves text that fits alone, and keeps a lone surrogate it was given", () => {
    expect(cutCodePoints("abc", 3)).toBe("abc");
    expect(cutCodePoints("ab\ud800c", 3)).toBe("ab\ud800");
  });
});

describe("lastCodePoints", () => {
  it("never starts inside a surrogate pair", () => {
    expect(lastCodePoints(MATH, 3)).toBe("𝕫");
    expect(lastCodePoints(MATH, 4)).toBe("𝕪𝕫");
    expect(lastCodePoints(`${MATH}a`, 2)).toBe("a");
    expect(lastCodePoints(MATH, 0)).toBe("");
    expect(lastCodePoints("abc", 5)).toBe("abc");
  });
});

const start = (s: string, out: string) => s.startsWith(out);
// how much shorter than max a cut may be: half a pair, or (graphemes) anything
describe.each([
  ["cutCodePoints", cutCodePoints, start, 1],
  ["lastCodePoints", lastCodePoints, (s: string, out: string) => s.endsWith(out), 1],
  ["cutGraphemes", cutGraphemes, start, Number.POSITIVE_INFINITY],
])("%s of well-formed text", (_name, cut, isPart, slack) => {
  it("returns a well-formed part of the text, at most max units long", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), fc.nat(40), (s, max) => {
        const out = cut(s, max);
        expect(out.isWellFormed()).toBe(true);
        expect(out.length).toBeLessThanOrEqual(max);
        expect(isPart(s, out)).toBe(true);
        expect(out.length).toBeGreaterThanOrEqual(Math.min(s.length, max) - slack);
      }),
    );
  });
});

describe("cutGraphemes", () => {
  it("keeps ZWJ sequences, combining marks and astral letters whole", () => {
    expect(cutGraphemes(`a${FAMILY}x`, 8)).toBe("a");
    expect(cutGraphemes(`a${FAMILY}x`, 9)).toBe(`a${FAMILY}`);
    expect(cutGraphemes(`caf${E_ACUTE}!`, 4)).toBe("caf");
    expect(cutGraphemes(`caf${E_ACUTE}!`, 5)).toBe(`caf${E_ACUTE}`);
    expect(cutGraphemes(`${MATH}`, 5)).toBe("𝕏𝕪");
    expect(cutGraphemes("שלום مرحبا", 4)).toBe("שלום");
  });

  it("cuts a first grapheme longer than max between code points", () => {
    const zalgo = `a${"\u0301".repeat(20)}`;
    expect(cutGraphemes(zalgo, 5)).toBe(zalgo.slice(0, 5));
    expect(cutGraphemes(`${FAMILY}x`, 7)).toBe("👩\u200d👩\u200d");
    expect(cutGraphemes(FAMILY, 3)).toBe("👩\u200d");
  });
});

describe("clip", () => {
  it("adds the ellipsis only when it cut", () => {
    expect(clip("short", 10)).toBe("short");
    expect(clip(`ab${MATH}`, 3)).toBe("ab…");
    expect(clip(`ab${MATH}`, 3, "")).toBe("ab");
  });
});

describe("wellFormed", () => {
  it("replaces lone surrogates in strings, arrays, objects and keys; keeps pairs", () => {
    expect(wellFormed("a\ud800b")).toBe("a\ufffdb");
    expect(wellFormed(`${MATH}\udc00`)).toBe(`${MATH}\ufffd`);
    expect(wellFormed({ q: ["x\ud835", 1, null, true], "k\udfff": { deep: "\ud800" }, ok: FAMILY })).toEqual({
      q: ["x\ufffd", 1, null, true],
      "k\ufffd": { deep: "\ufffd" },
      ok: FAMILY,
    });
  });

  it("makes anything JSON-serialisable that PostgreSQL's jsonb accepts", () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: "binary" }), (v) => {
        const bad: string[] = [];
        JSON.stringify(wellFormed(v), (key, item: unknown) => {
          if (!key.isWellFormed() || (typeof item === "string" && !item.isWellFormed())) bad.push(key);
          return item;
        });
        expect(bad).toEqual([]);
      }),
    );
  });
});

describe("parseDecimalInt", () => {
  it("reads digits only, within range", () => {
    expect(parseDecimalInt("0", 0, 10)).toBe(0);
    expect(parseDecimalInt("007", 0, 10)).toBe(7);
    expect(parseDecimalInt("10", 0, 10)).toBe(10);
    expect(parseDecimalInt("11", 0, 10)).toBeUndefined();
    expect(parseDecimalInt("0", 1, 10)).toBeUndefined();
    expect(parseDecimalInt("9".repeat(400), 0, Number.MAX_SAFE_INTEGER)).toBeUndefined();
  });

  it.each(["", " 5", "5 ", "+5", "-5", "5.0", "1e2", "0x10", "0b1", "0o7", "٥", "Infinity", "NaN"])(
    "refuses %j",
    (s) => {
      expect(parseDecimalInt(s, -100, 100)).toBeUndefined();
    },
  );
});
