import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { openApiSpec } from "./lib/openapi-spec.ts";

/**
 * `npm run lint:openapi`: lints the gateway's OpenAPI document with Redocly's recommended rules,
 * so client generators get what they need (operation ids, servers, declared security).
 */
const dir = mkdtempSync(path.join(os.tmpdir(), "synapse-openapi-"));
try {
  const file = path.join(dir, "openapi.json");
  writeFileSync(file, JSON.stringify(await openApiSpec(), null, 2));
  const bin = path.resolve(import.meta.dirname, "../node_modules/.bin/redocly");
  const run = spawnSync(bin, ["lint", "--extends=recommended", "--format=summary", file], {
    stdio: "inherit",
    env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
  });
  process.exitCode = run.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
