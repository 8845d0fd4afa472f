import path from "node:path";
import { parseDependencyTree } from "dpdm";
import { describe, expect, it } from "vitest";

/**
 * What ships is what lives under packages/<name>/src and services/<name>/src, so test code stays
 * out of there: tests may sit next to the code they test, but their helpers, harnesses and fixtures
 * live in a test/ folder, and production modules import nothing from test/ or scripts/.
 */
const root = path.resolve(import.meta.dirname, "../..");

const inSrc = (file: string) => /^(packages|services)\/[^/]+\/src\//.test(file);
const isTestFile = (file: string) => /\.test\.tsx?$/.test(file);
/** A test, or a file of a test/ folder (the root one or a service's own). */
const isTestCode = (file: string) => isTestFile(file) || /(^|\/)test\//.test(file);
const inTestOrScripts = (file: string) =>
  !file.includes("node_modules/") && /(^|\/)(test|scripts)\//.test(file);
/** A package's entry point (its package.json "."): its public API, whoever imports it today. */
const isEntry = (file: string) => /^(packages|services)\/[^/]+\/src\/index\.tsx?$/.test(file);
const TEST_CODE_NAME = /test-helpers|test-fixtures|\/testing\/|harness/;

/** What each file imports, resolved to a path from the root (dpdm's tree). */
type ImportTree = Record<string, readonly { request: string; id: string | null }[] | null>;

/** Every production module under a src folder that breaks the rule, with the reason. */
function testCodeInSrc(tree: ImportTree): string[] {
  const importers = new Map<string, string[]>();
  for (const [issuer, deps] of Object.entries(tree))
    for (const dep of deps ?? [])
      if (dep.id) importers.set(dep.id, [...(importers.get(dep.id) ?? []), issuer]);
  const found: string[] = [];
  for (const [file, deps] of Object.entries(tree)) {
    if (!inSrc(file) || isTestFile(file)) continue;
    for (const dep of deps ?? [])
      if (dep.id && inTestOrScripts(dep.id)) found.push(`${file} imports ${dep.request}`);
    if (TEST_CODE_NAME.test(file)) found.push(`${file} is named as test code`);
    const by = importers.get(file) ?? [];
    if (!isEntry(file) && by.length > 0 && by.every(isTestCode))
      found.push(`${file} is imported only by tests`);
  }
  return found.sort();
}

const dep = (id: string) => ({ request: id, id });

describe("test code stays out of src", () => {
  it("no production module under a src folder imports from test/ or scripts/ or serves only tests", async () => {
    const tree = await parseDependencyTree(
      [
        "packages/*/src/**/*.{ts,tsx}",
        "packages/*/scripts/**/*.ts",
        "services/*/src/**/*.ts",
        "services/*/test/**/*.ts",
        "test/**/*.ts",
        "scripts/**/*.ts",
        "bench/**/*.ts",
        "*.ts",
      ],
      { cwd: root, transform: false, skipDynamicImports: false, exclude: /node_modules/ },
    );
    expect(Object.keys(tree).filter(inSrc).length).toBeGreaterThan(100);
    expect(testCodeInSrc(tree)).toEqual([]);
  });

  it("catches each way test code can sit in src", () => {
    const tree: ImportTree = {
      "services/a/src/main.ts": [dep("services/a/src/app.ts")],
      "services/a/src/app.ts": [
        dep("test/support/seed.ts"),
        dep("scripts/lib/roles.ts"),
        dep("services/a/test/helpers.ts"),
      ],
      "services/a/src/app.test.ts": [
        dep("test/support/seed.ts"),
        dep("services/a/src/stubs.ts"),
        dep("services/a/src/app.ts"),
      ],
      "services/a/src/stubs.ts": [],
      "services/a/src/index.ts": [],
      "test/e2e/stack.ts": [dep("services/a/src/index.ts")],
      "services/a/src/ws/testing/server.ts": [],
      "packages/b/src/test-fixtures.ts": [],
      "services/c/src/testing/harness.ts": [dep("test/support/seed.ts")],
      "test/support/seed.ts": [],
    };
    expect(testCodeInSrc(tree)).toEqual([
      "packages/b/src/test-fixtures.ts is named as test code",
      "services/a/src/app.ts imports scripts/lib/roles.ts",
      "services/a/src/app.ts imports services/a/test/helpers.ts",
      "services/a/src/app.ts imports test/support/seed.ts",
      "services/a/src/stubs.ts is imported only by tests",
      "services/a/src/ws/testing/server.ts is named as test code",
      "services/c/src/testing/harness.ts imports test/support/seed.ts",
      "services/c/src/testing/harness.ts is named as test code",
    ]);
  });
});
