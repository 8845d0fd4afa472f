import {
  type Context,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import { clip } from "../text.ts";

/**
 * OpenTelemetry traces: one trace per turn, from the POST that began it through every orchestrator
 * step and every LLM and tool call. Off unless {@link startTracing} is given an endpoint: the
 * OpenTelemetry API is then a no-op and every helper here costs next to nothing.
 *
 * A trace crosses processes as a W3C `traceparent` string ({@link TraceCarrier}) kept with the turn
 * and carried in job data.
 */
export type TraceCarrier = Record<string, string>;

export interface Tracing {
  /** Flushes the spans still buffered and stops exporting. */
  shutdown(): Promise<void>;
}

let provider: NodeTracerProvider | undefined;

/**
 * Starts exporting spans of this process (`service`) to `endpoint` over OTLP/HTTP, or to the given
 * span processor (tests: an in-memory exporter). Without either, tracing stays off.
 */
export function startTracing(
  service: string,
  opts: { endpoint?: string | undefined; processor?: SpanProcessor },
): Tracing {
  if (provider || (!opts.endpoint && !opts.processor)) return { shutdown: async () => undefined };
  const processor =
    opts.processor ??
    new BatchSpanProcessor(new OTLPTraceExporter({ url: `${opts.endpoint!.replace(/\/$/, "")}/v1/traces` }));
  const p = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: service }),
    spanProcessors: [processor],
  });
  p.register();
  provider = p;
  return {
    async shutdown() {
      await p.shutdown();
      if (provider === p) {
        provider = undefined;
        trace.disable();
        propagation.disable();
        context.disable();
      }
    },
  };
}

export function tracer(): Tracer {
  return trace.getTracer("synapse");
}

/** The active span's context as a carrier for job data or a row, or undefined when not tracing. */
export function traceCarrier(ctx: Context = context.active()): TraceCarrier | undefined {
  if (!trace.getSpan(ctx)?.isRecording()) return undefined;
  const carrier: TraceCarrier = {};
  propagation.inject(ctx, carrier);
  return Object.keys(carrier).length > 0 ? carrier : undefined;
}

/**
 * Runs `fn` in a new span named `name`, child of `parent` (a carrier from another process) or of
 * the active span. The span ends when `fn` settles; a throw marks it as an error.
 */
export async function inSpan<T>(
  name: string,
  opts: {
    parent?: TraceCarrier | null | undefined;
    attributes?: Record<string, string | number | boolean>;
    kind?: SpanKind;
  },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = opts.parent ? propagation.extract(context.active(), opts.parent) : context.active();
  return tracer().startActiveSpan(
    name,
    { kind: opts.kind ?? SpanKind.INTERNAL, attributes: opts.attributes ?? {} },
    parent,
    async (span) => {
      try {
        return await fn(span);
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).name });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** Longest text kept on a span when `OTEL_CAPTURE_CONTENT` is on: a reply can be pages long. */
export const CAPTURED_CONTENT_CHARS = 4096;

/** `text` as a span attribute when content is captured: cut to {@link CAPTURED_CONTENT_CHARS}. */
export function capturedText(text: string): string {
  return clip(text, CAPTURED_CONTENT_CHARS);
}

/** Marks `span` as failed without an exception: a call that returned an error result. */
export function markFailed(span: Span, errorType: string): void {
  span.setAttribute("error.type", errorType);
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
}

export { SpanKind };
