import { expect, it } from "vitest";
import { localMetricsPorts } from "../../scripts/lib/service-process.ts";

it("gives the local orchestrator and worker a metrics port each, none when unset", () => {
  expect(localMetricsPorts(9464)).toEqual({ orchestrator: 9464, worker: 9465 });
  expect(localMetricsPorts(undefined)).toBeUndefined();
});
