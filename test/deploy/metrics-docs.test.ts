import { readFileSync } from "node:fs";
import path from "node:path";
import { registry } from "@synapse/shared/telemetry/metrics";
import { expect, it } from "vitest";

// the dashboard and the operations guide name metrics by hand: they must name ones that exist
const root = path.resolve(import.meta.dirname, "../..");
const defined = new Set(registry.getMetricsAsArray().map((m) => m.name));
const named = (text: string) =>
  new Set([...text.matchAll(/\bsynapse_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, "")));

it("the Grafana dashboard queries only metrics that exist", () => {
  const dashboard = readFileSync(path.join(root, "docs/grafana/synapse.json"), "utf8");
  expect([...named(dashboard)].filter((n) => !defined.has(n))).toEqual([]);
});

it("docs/operations.md lists every metric, and no other", () => {
  const doc = readFileSync(path.join(root, "docs/operations.md"), "utf8");
  const listed = new Set([...doc.matchAll(/^\| `(synapse_[a-z_]+)`/gm)].map((m) => m[1]!));
  expect(listed).toEqual(defined);
});
