import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { createQueue, createRedis, EXECUTION_QUEUE, type Message } from "@synapse/shared";
import { startTracing } from "@synapse/shared/telemetry/tracing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { calcGroup, delegateToCalc, isFrame, openSocket, type Stack, startStack } from "./stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const SPAN_KIND = { INTERNAL: 0, SERVER: 1, CLIENT: 2 } as const;
/** Attributes that would hold message text: none of them without OTEL_CAPTURE_CONTENT. */
const CONTENT_KEYS = ["synapse.reply", "gen_ai.tool.call.arguments", "gen_ai.tool.call.result"];

/**
 * Posts each of `contents` in turn to a new group with Calc (so all but the first are queued behind
 * it) and waits for every turn to complete; returns the turn ids.
 */
async function delegationTurns(...contents: string[]): Promise<string[]> {
  stack.fake.reset();
  stack.fake.respond(delegateToCalc);
  const owner = await stack.user();
  const group = await calcGroup(stack, owner.token, "traced");
  const live = await openSocket(stack, group.id, owner.token);
  const turnIds: string[] = [];
  for (const content of contents) {
    const posted = await stack.api<Message>("POST", `/groups/${group.id}/messages`, {
      token: owner.token,
      body: { content },
    });
    turnIds.push(posted.body.turn_id!);
  }
  for (const turnId of turnIds)
    await live.waitFor(isFrame("turn.ended", (f) => f.turn_id === turnId && f.reason === "completed"));
  live.close();
  return turnIds;
}

/** Spans of `turnId` once its last step's span has ended (it announces `turn.ended` before ending). */
async function spansOf(exporter: InMemorySpanExporter, turnId: string, steps: number) {
  const of = () => exporter.getFinishedSpans().filter((s) => s.attributes["synapse.turn_id"] === turnId);
  for (let i = 0; i < 100 && of().filter((s) => s.name === "turn.step").length < steps; i++)
    await new Promise((r) => setTimeout(r, 50));
  const byStart = (a: ReadableSpan, b: ReadableSpan) =>
    a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1];
  return of().sort(byStart);
}

it("a delegation turn is one trace: POST → each step → the calls it dispatched", {
  timeout: 60_000,
}, async () => {
  const exporter = new InMemorySpanExporter();
  const tracing = startTracing("e2e", { processor: new SimpleSpanProcessor(exporter) });
  let turnId: string;
  let spans: ReadableSpan[];
  try {
    [turnId] = (await delegationTurns("What is 6*7?")) as [string];
    // start, then one step per result: Orchestrator, Calc (tool call), calculator, Calc, Orchestrator
    spans = await spansOf(exporter, turnId, 6);
  } finally {
    await tracing.shutdown();
  }

  const post = spans.find((s) => s.name === "POST /groups/{id}/messages")!;
  expect(post.kind).toBe(SPAN_KIND.SERVER);
  const traceId = post.spanContext().traceId;
  for (const s of spans) expect(s.spanContext().traceId, s.name).toBe(traceId);

  const steps = spans.filter((s) => s.name === "turn.step");
  expect(steps.map((s) => s.attributes["synapse.event"])).toEqual([
    "start",
    "result",
    "result",
    "result",
    "result",
    "result",
  ]);
  for (const s of steps) {
    expect(s.parentSpanContext?.spanId).toBe(post.spanContext().spanId);
    expect(s.attributes["synapse.group_id"]).toBe(post.attributes["synapse.group_id"]);
  }

  // each call is dispatched by one step and its result fed to the next: call i is a child of step i
  const calls = spans.filter((s) => s.name.startsWith("chat ") || s.name.startsWith("execute_tool "));
  expect(calls.map((s) => s.name)).toEqual([
    "chat gpt-test",
    "chat m-calc",
    "execute_tool calculator",
    "chat m-calc",
    "chat gpt-test",
  ]);
  calls.forEach((call, i) => {
    expect(call.parentSpanContext?.spanId, call.name).toBe(steps[i]!.spanContext().spanId);
  });
  for (const chat of calls.filter((s) => s.name.startsWith("chat "))) {
    expect(chat.kind).toBe(SPAN_KIND.CLIENT);
    expect(chat.attributes).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.system": "openai",
      "gen_ai.request.model": chat.name.slice("chat ".length),
    });
    expect(chat.attributes["gen_ai.usage.input_tokens"]).toEqual(expect.any(Number));
    expect(chat.attributes["gen_ai.usage.output_tokens"]).toEqual(expect.any(Number));
  }
  expect(calls[2]!.attributes).toMatchObject({
    "gen_ai.operation.name": "execute_tool",
    "gen_ai.tool.name": "calculator",
  });

  // no message text on any span unless OTEL_CAPTURE_CONTENT=true
  for (const s of spans) {
    for (const key of CONTENT_KEYS) expect(s.attributes, s.name).not.toHaveProperty(key);
    for (const value of Object.values(s.attributes)) expect(String(value)).not.toMatch(/6\*7|It is/);
  }

  const { rows } = await stack.pool.query("select trace from turns where id = $1", [turnId]);
  expect(rows[0].trace.traceparent).toContain(traceId);
});

it("a queued turn's steps join the trace of the POST that queued it", { timeout: 60_000 }, async () => {
  const exporter = new InMemorySpanExporter();
  const tracing = startTracing("e2e", { processor: new SimpleSpanProcessor(exporter) });
  let first: ReadableSpan[];
  let second: ReadableSpan[];
  try {
    // the second turn waits for the first and starts from the job that ends it; with the first's
    // answer in its context, the Orchestrator completes it at once: start, one result
    const [a, b] = (await delegationTurns("What is 6*7?", "Thanks")) as [string, string];
    first = await spansOf(exporter, a, 6);
    second = await spansOf(exporter, b, 2);
  } finally {
    await tracing.shutdown();
  }
  const postOf = (spans: ReadableSpan[]) => spans.find((s) => s.name === "POST /groups/{id}/messages")!;
  const post = postOf(second);
  expect(post.spanContext().traceId).not.toBe(postOf(first).spanContext().traceId);
  const steps = second.filter((s) => s.name === "turn.step");
  expect(steps.map((s) => s.attributes["synapse.event"])).toEqual(["start", "result"]);
  for (const s of second) expect(s.spanContext().traceId, s.name).toBe(post.spanContext().traceId);
  for (const s of steps) expect(s.parentSpanContext?.spanId).toBe(post.spanContext().spanId);
});

it("with tracing off, neither the turn nor its jobs carry a trace", { timeout: 60_000 }, async () => {
  const [turnId] = await delegationTurns("What is 6*7?");
  const { rows } = await stack.pool.query("select trace from turns where id = $1", [turnId]);
  expect(rows[0].trace).toBeNull();

  const redis = createRedis(stack.config.REDIS_URL!, { bullmq: true });
  const queue = createQueue<{ turn_id: string }>(EXECUTION_QUEUE, redis, stack.config);
  try {
    const jobs = (await queue.getJobs(["completed"])).filter((j) => j.data.turn_id === turnId);
    expect(jobs.map((j) => j.name).sort()).toEqual(["llm", "llm", "llm", "llm", "tool"]);
    for (const job of jobs) expect(job.data).not.toHaveProperty("trace");
  } finally {
    await queue.close();
    redis.disconnect();
  }
});
