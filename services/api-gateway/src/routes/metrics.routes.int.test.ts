import { afterAll, beforeAll, expect, it } from "vitest";
import { type TestGateway, testGateway } from "../../test/helpers.ts";

let gw: TestGateway;
beforeAll(async () => {
  gw = await testGateway();
});
afterAll(() => gw.close());

/** The value of the series of `name` whose labels include every one of `labels`, or 0. */
function sample(text: string, name: string, labels: string[]): number {
  const line = text
    .split("\n")
    .find((l) => l.startsWith(`${name}{`) && labels.every((label) => l.includes(label)));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

it("serves Prometheus text and counts requests by route template and status", async () => {
  const before = await gw.call("GET", "/metrics");
  expect(before.statusCode).toBe(200);
  expect(before.headers["content-type"]).toContain("text/plain");
  const labels = ['route="/groups/:id"', 'status="401"', 'method="GET"'];
  const count = "synapse_http_request_duration_seconds_count";
  const n = sample(before.body, count, labels);

  await gw.call("GET", `/groups/${crypto.randomUUID()}`);
  await gw.call("GET", `/groups/${crypto.randomUUID()}`);

  const after = (await gw.call("GET", "/metrics")).body;
  expect(sample(after, count, labels)).toBe(n + 2);
  // ids never become labels
  expect(after).not.toMatch(/route="\/groups\/[0-9a-f]{8}-/);
});
