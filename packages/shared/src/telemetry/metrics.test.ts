import { expect, it } from "vitest";
import { bounded, queueJobs, registry, trackQueueDepth } from "./metrics.ts";

it("bounds a label's values per process", () => {
  const values = Array.from({ length: 150 }, (_, i) => bounded("test_label", `m${i}`));
  expect(new Set(values).size).toBe(101);
  expect(values.at(-1)).toBe("other");
  expect(bounded("test_label", "m3")).toBe("m3");
});

it("reads queue depth at scrape time", async () => {
  const stop = trackQueueDepth({
    name: "q",
    getJobCounts: async () => ({ waiting: 3, active: 1, delayed: 0, failed: 2 }),
  });
  const text = await registry.metrics();
  stop();
  expect(text).toContain('synapse_queue_jobs{queue="q",state="waiting"} 3');
  expect(text).toContain('synapse_queue_jobs{queue="q",state="failed"} 2');
  queueJobs.reset();
});
