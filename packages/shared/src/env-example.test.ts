import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// the documented settings and the schema must not drift apart
describe(".env.example", () => {
  it("lists every setting the config schema reads", () => {
    const example = readFileSync(new URL("../../../.env.example", import.meta.url), "utf8");
    const documented = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    const source = readFileSync(new URL("./config.ts", import.meta.url), "utf8");
    const read = [...source.matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]);
    expect(read.length).toBeGreaterThan(20);
    expect(read.filter((name) => !documented.has(name))).toEqual([]);
  });
});
