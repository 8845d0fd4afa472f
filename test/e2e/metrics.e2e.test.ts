import type { Message } from "@synapse/shared";
import { enableProcessMetrics } from "@synapse/shared/telemetry/metrics";
import { afterAll, beforeAll, expect, it } from "vitest";
import { calcGroup, delegateToCalc, isFrame, openSocket, type Stack, startStack } from "./stack.ts";

let stack: Stack;
beforeAll(async () => {
  enableProcessMetrics(); // as each main.ts does
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

/** Sum of the samples of `name` whose labels include each of `labels`. */
function total(text: string, name: string, labels: string[] = []): number {
  return text
    .split("\n")
    .filter(
      (l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && labels.every((x) => l.includes(x)),
    )
    .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
}

it("a turn moves the turn, LLM, tool, queue, HTTP and WebSocket metrics", { timeout: 40_000 }, async () => {
  stack.fake.reset();
  stack.fake.respond(delegateToCalc);
  const scrape = async () => (await fetch(`${stack.url}/metrics`)).text();
  const owner = await stack.user();
  const group = await calcGroup(stack, owner.token, "metrics");
  const live = await openSocket(stack, group.id, owner.token);
  const before = await scrape();

  const posted = await stack.api<Message>("POST", `/groups/${group.id}/messages`, {
    token: owner.token,
    body: { content: "What is 6*7?" },
  });
  await live.waitFor(
    isFrame("turn.ended", (f) => f.turn_id === posted.body.turn_id && f.reason === "completed"),
  );
  const after = await scrape();
  live.close();

  const moved = (name: string, labels: string[] = []) =>
    total(after, name, labels) - total(before, name, labels);
  expect(moved("synapse_turns_started_total")).toBe(1);
  expect(moved("synapse_turns_ended_total", ['reason="completed"'])).toBe(1);
  expect(moved("synapse_turn_duration_seconds_count", ['reason="completed"'])).toBe(1);
  expect(moved("synapse_turn_steps_count")).toBe(1);
  // Orchestrator, Calc, Calc again with the result, Orchestrator
  expect(moved("synapse_llm_call_duration_seconds_count", ['provider="openai"', 'outcome="ok"'])).toBe(4);
  expect(moved("synapse_llm_tokens_total", ['model="m-calc"', 'direction="output"'])).toBeGreaterThan(0);
  expect(moved("synapse_tool_call_duration_seconds_count", ['tool="calculator"', 'outcome="ok"'])).toBe(1);
  expect(
    moved("synapse_http_request_duration_seconds_count", ['route="/groups/:id/messages"', 'status="202"']),
  ).toBe(1);
  expect(moved("synapse_ws_frames_sent_total", ['type="message"'])).toBe(6); // the request, 5 answers
  expect(total(after, "synapse_ws_connections")).toBeGreaterThan(0);
  expect(after).toMatch(/synapse_queue_jobs\{queue="execution",state="waiting"\} \d+/);
  expect(after).toContain("synapse_process_cpu_seconds_total");
});
