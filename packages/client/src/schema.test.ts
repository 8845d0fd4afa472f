import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { openApiSpec } from "../../../scripts/lib/openapi-spec.ts";
import { schemaSource } from "../scripts/schema-source.ts";

describe("src/schema.ts", () => {
  it("is what the gateway's live OpenAPI document generates (else: npm run generate:client)", async () => {
    const committed = readFileSync(new URL("./schema.ts", import.meta.url), "utf8");
    const live = await schemaSource(await openApiSpec());
    // a boolean, not the 2,000-line diff; the message says how to mend it
    expect(live === committed, "src/schema.ts is stale: run npm run generate:client").toBe(true);
  });
});
