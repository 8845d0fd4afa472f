import { defineConfig } from "drizzle-kit";

// Used only by `npm run db:generate`, which writes a new up-migration from schema changes.
export default defineConfig({
  dialect: "postgresql",
  schema: "./packages/shared/src/db/schema.ts",
  out: "./packages/shared/migrations",
});
