import { createServer, type Server } from "node:http";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * Prometheus metrics of every Synapse process, in one registry. Defining them allocates nothing
 * outside this module and starts no timer; a process's composition root calls
 * {@link enableProcessMetrics} and exposes {@link registry} (`GET /metrics` on the gateway,
 * {@link serveMetrics} on `METRICS_PORT` for the orchestrator and the worker).
 *
 * Label values are bounded: routes are templates, reasons and outcomes are enums, and names that
 * users choose (models) pass through {@link bounded}. No id is ever a label.
 */
export const registry = new Registry();
const registers = [registry];

const SECONDS_FAST = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const SECONDS_SLOW = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export const httpRequestDuration = new Histogram({
  name: "synapse_http_request_duration_seconds",
  help: "HTTP requests by route template, method and status code.",
  labelNames: ["method", "route", "status"] as const,
  buckets: SECONDS_FAST,
  registers,
});

export const wsConnections = new Gauge({
  name: "synapse_ws_connections",
  help: "Open WebSocket connections.",
  registers,
});
export const wsFramesSent = new Counter({
  name: "synapse_ws_frames_sent_total",
  help: "Frames sent to WebSocket clients, by frame type.",
  labelNames: ["type"] as const,
  registers,
});
/** One counter child per frame type, made once: a frame is counted for every socket it goes to. */
const sentByType = new Map<string, Counter.Internal>();
export function countFrameSent(type: string): void {
  let counter = sentByType.get(type);
  if (!counter) {
    counter = wsFramesSent.labels({ type });
    sentByType.set(type, counter);
  }
  counter.inc();
}

export const wsBackpressureClosed = new Counter({
  name: "synapse_ws_backpressure_closed_total",
  help: "WebSockets closed (1013) because the client fell too far behind.",
  registers,
});

/** A BullMQ queue, as far as its depth is concerned. */
export interface CountedQueue {
  readonly name: string;
  getJobCounts(...types: QueueState[]): Promise<Record<string, number>>;
}
type QueueState = "waiting" | "active" | "delayed" | "failed";
const QUEUE_STATES: QueueState[] = ["waiting", "active", "delayed", "failed"];
const countedQueues = new Set<CountedQueue>();

export const queueJobs = new Gauge({
  name: "synapse_queue_jobs",
  help: "Jobs per queue and state, read from Redis at scrape time (every process that tracks a queue reports the same value: aggregate with max).",
  labelNames: ["queue", "state"] as const,
  registers,
  async collect() {
    for (const queue of countedQueues) {
      const counts = await queue.getJobCounts(...QUEUE_STATES);
      for (const state of QUEUE_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
    }
  },
});

/** Reports `queue`'s depth in {@link queueJobs} until the returned function is called. */
export function trackQueueDepth(queue: CountedQueue): () => void {
  countedQueues.add(queue);
  return () => countedQueues.delete(queue);
}

export const turnsStarted = new Counter({
  name: "synapse_turns_started_total",
  help: "Turns started.",
  registers,
});
export const turnsEnded = new Counter({
  name: "synapse_turns_ended_total",
  help: "Turns ended, by reason.",
  labelNames: ["reason"] as const,
  registers,
});
export const turnDuration = new Histogram({
  name: "synapse_turn_duration_seconds",
  help: "From a turn's start to its end, by reason.",
  labelNames: ["reason"] as const,
  buckets: SECONDS_SLOW,
  registers,
});
export const turnSteps = new Histogram({
  name: "synapse_turn_steps",
  help: "LLM and tool calls per ended turn.",
  buckets: [1, 2, 3, 4, 6, 8, 12, 16, 20, 30, 50],
  registers,
});

/** Counts a turn that has just ended (`seconds` from its start; null when it never started). */
export function recordTurnEnded(reason: string, steps: number, seconds: number | null): void {
  turnsEnded.inc({ reason });
  turnSteps.observe(steps);
  if (seconds !== null) turnDuration.observe({ reason }, seconds);
}

export const llmCallDuration = new Histogram({
  name: "synapse_llm_call_duration_seconds",
  help: "LLM calls (all attempts of one call), by provider, model and outcome.",
  labelNames: ["provider", "model", "outcome"] as const,
  buckets: SECONDS_SLOW,
  registers,
});
export const llmTokens = new Counter({
  name: "synapse_llm_tokens_total",
  help: "Tokens reported by providers, by provider, model and direction (input, output).",
  labelNames: ["provider", "model", "direction"] as const,
  registers,
});
export const llmRetries = new Counter({
  name: "synapse_llm_retries_total",
  help: "Retried LLM attempts (429, 5xx, timeouts), by provider and model.",
  labelNames: ["provider", "model"] as const,
  registers,
});
export const llmFailures = new Counter({
  name: "synapse_llm_failures_total",
  help: "LLM calls that failed for good, by provider, model and error code.",
  labelNames: ["provider", "model", "code"] as const,
  registers,
});

export const toolCallDuration = new Histogram({
  name: "synapse_tool_call_duration_seconds",
  help: "Tool calls by tool and outcome (ok, error).",
  labelNames: ["tool", "outcome"] as const,
  buckets: SECONDS_FAST.concat([10, 30]),
  registers,
});
export const toolErrors = new Counter({
  name: "synapse_tool_errors_total",
  help: "Tool calls that returned an error, by tool.",
  labelNames: ["tool"] as const,
  registers,
});

const MAX_VALUES = 100;
const seen = new Map<string, Set<string>>();

/**
 * `value` as a label value of `label`, or `"other"` once `label` has had {@link MAX_VALUES}
 * distinct values in this process: users name models freely, and a series per name must not grow
 * without bound.
 */
export function bounded(label: string, value: string): string {
  const values = seen.get(label) ?? new Set<string>();
  seen.set(label, values);
  if (values.has(value)) return value;
  if (values.size >= MAX_VALUES) return "other";
  values.add(value);
  return value;
}

let processMetrics = false;

/** Adds Node's default process metrics (CPU, memory, event-loop lag, GC), once per process. */
export function enableProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: registry, prefix: "synapse_" });
}

/**
 * Serves `GET /metrics` (and `GET /health`) on `port` for a process without an HTTP server of its
 * own. Resolves once listening.
 */
export async function serveMetrics(port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/metrics") {
      registry.metrics().then(
        (body) => res.writeHead(200, { "content-type": registry.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
    } else if (req.method === "GET" && req.url === "/health") {
      res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
    } else {
      res
        .writeHead(404, { "content-type": "application/json" })
        .end('{"detail":"no such route","code":"not_found"}');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
