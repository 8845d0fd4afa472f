import { writeFile } from "node:fs/promises";
import { openApiSpec } from "../../../scripts/lib/openapi-spec.ts";
import { schemaSource } from "./schema-source.ts";

/** `npm run generate:client`: regenerates src/schema.ts from the gateway built in-process. */
const target = new URL("../src/schema.ts", import.meta.url);
await writeFile(target, await schemaSource(await openApiSpec()));
console.log(`wrote ${target.pathname}`);
