import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Bench, type BenchRow, startBenchServices } from "./support.ts";

/**
 * `npm run bench [filter]`: runs every bench/*.bench.ts against fresh local PostgreSQL and Redis and
 * prints one table. Each figure stands next to a baseline measured in the same run.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2];
const files = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts") && (!filter || f.includes(filter)))
  .sort();

const ctx = await startBenchServices();
const all: { file: string; rows: BenchRow[] }[] = [];
try {
  for (const file of files) {
    process.stderr.write(`running ${file}...\n`);
    const mod = (await import(path.join(here, file))) as { default: Bench };
    all.push({ file, rows: await mod.default(ctx) });
  }
} finally {
  await ctx.stop();
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));
const lines = ["| bench | figure | value | baseline (same run) | ratio |", "|---|---|---|---|---|"];
for (const { file, rows } of all)
  for (const r of rows)
    lines.push(
      `| ${file.replace(".bench.ts", "")} | ${r.name} | ${fmt(r.value)} ${r.unit} | ${
        r.baseline ? `${r.baseline.name}: ${fmt(r.baseline.value)} ${r.unit}` : ""
      } | ${r.ratio !== undefined ? r.ratio.toFixed(2) : ""}${r.note ? ` ${r.note}` : ""} |`,
    );
process.stdout.write(`${lines.join("\n")}\n`);
process.exit(0);
