import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

/** `… from "x"`, `import "x"` and `import("x")`. */
const IMPORT = /(?:\bfrom|^import)\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']/gm;

describe("@synapse/client sources", () => {
  it("import only each other and openapi-fetch, so browsers and Node alike can run them", () => {
    const dir = new URL("./", import.meta.url);
    const sources = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));
    expect(sources).toContain("index.ts");
    const foreign = sources.flatMap((file) =>
      [...readFileSync(new URL(file, dir), "utf8").matchAll(IMPORT)]
        .map((m) => (m[1] ?? m[2])!)
        .filter((spec) => !spec.startsWith("./") && spec !== "openapi-fetch")
        .map((spec) => `${file}: ${spec}`),
    );
    expect(foreign).toEqual([]);
  });
});
