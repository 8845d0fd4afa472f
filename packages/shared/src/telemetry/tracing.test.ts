import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, expect, it } from "vitest";
import { inSpan, startTracing, type Tracing, traceCarrier } from "./tracing.ts";

const exporter = new InMemorySpanExporter();
let tracing: Tracing;
beforeAll(() => {
  tracing = startTracing("test", { processor: new SimpleSpanProcessor(exporter) });
});
afterAll(() => tracing.shutdown());

it("joins spans of separate processes into one trace through a carrier", async () => {
  // the gateway's span, handed on as a carrier (as job data or a turn row would carry it)
  const carrier = await inSpan("post", {}, async () => traceCarrier());
  expect(carrier?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  // another process continues it: a step, and a call inside the step
  await inSpan("step", { parent: carrier }, async () => {
    await inSpan("llm", {}, async () => undefined);
  });
  await expect(
    inSpan("tool", { parent: carrier }, async () => Promise.reject(new Error("x"))),
  ).rejects.toThrow();

  const spans = Object.fromEntries(exporter.getFinishedSpans().map((s) => [s.name, s]));
  const traceId = spans.post!.spanContext().traceId;
  for (const name of ["step", "llm", "tool"]) expect(spans[name]!.spanContext().traceId).toBe(traceId);
  expect(spans.step!.parentSpanContext?.spanId).toBe(spans.post!.spanContext().spanId);
  expect(spans.llm!.parentSpanContext?.spanId).toBe(spans.step!.spanContext().spanId);
  expect(spans.tool!.status.code).toBe(2);
});

it("gives no carrier outside a span", () => {
  expect(traceCarrier()).toBeUndefined();
});
