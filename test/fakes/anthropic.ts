/** The Anthropic messages protocol of the fake LLM server: request normalization and replies. */
import { randomUUID } from "node:crypto";
import { type Json, type Normalized, type Planned, type SseWriter, textOf } from "./common.ts";
import type { FakeMessage } from "./types.ts";

export function normalizeAnthropic(body: Json): Normalized {
  const messages: FakeMessage[] = [];
  for (const m of body.messages as Json[]) {
    if (typeof m.content === "string") {
      messages.push({ role: m.role, content: m.content });
      continue;
    }
    const blocks = m.content as Json[];
    if (m.role === "assistant") {
      const calls = blocks
        .filter((b) => b.type === "tool_use")
        .map((b) => ({ id: b.id, name: b.name, args: b.input ?? {} }));
      messages.push({
        role: "assistant",
        content: textOf(blocks.filter((b) => b.type === "text")),
        ...(calls.length ? { tool_calls: calls } : {}),
      });
      continue;
    }
    for (const b of blocks.filter((x) => x.type === "tool_result"))
      messages.push({
        role: "tool",
        content: textOf(b.content),
        tool_call_id: b.tool_use_id,
        ...(b.is_error ? { is_error: true } : {}),
      });
    const text = blocks.filter((b) => b.type === "text");
    if (text.length) messages.push({ role: "user", content: textOf(text) });
  }
  const system = body.system === undefined ? undefined : textOf(body.system);
  const tools = ((body.tools as Json[] | undefined) ?? []).map((t) => t.name);
  return { model: body.model, messages, system, tools };
}

export async function streamAnthropic(sse: SseWriter, p: Planned, model: string) {
  const ev = (event: string, data: Json, pause = false) => sse.write(JSON.stringify(data), { event, pause });
  await ev("message_start", {
    type: "message_start",
    message: {
      id: `msg_${randomUUID().replaceAll("-", "")}`,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: p.usage.input_tokens, output_tokens: 0 },
    },
  });
  let index = 0;
  /** One content block: its start, its deltas (paced), its stop; false once the client is gone. */
  const block = async (content_block: Json, deltas: Json[]): Promise<boolean> => {
    await ev("content_block_start", { type: "content_block_start", index, content_block });
    for (const delta of deltas)
      if (!(await ev("content_block_delta", { type: "content_block_delta", index, delta }, true)))
        return false;
    await ev("content_block_stop", { type: "content_block_stop", index });
    index++;
    return true;
  };
  const text = p.deltas.map((d) => ({ type: "text_delta", text: d }));
  if (text.length && !(await block({ type: "text", text: "" }, text))) return;
  for (const c of p.calls) {
    const args = JSON.stringify(c.args);
    const half = Math.ceil(args.length / 2);
    const pieces = [args.slice(0, half), args.slice(half)].map((partial_json) => ({
      type: "input_json_delta",
      partial_json,
    }));
    if (!(await block({ type: "tool_use", id: c.id, name: c.name, input: {} }, pieces))) return;
  }
  await ev("message_delta", {
    type: "message_delta",
    delta: { stop_reason: p.calls.length ? "tool_use" : "end_turn", stop_sequence: null },
    usage: { output_tokens: p.usage.output_tokens },
  });
  await ev("message_stop", { type: "message_stop" });
}

export function completeAnthropic(p: Planned, model: string): Json {
  const text = p.deltas.join("");
  return {
    id: `msg_${randomUUID().replaceAll("-", "")}`,
    type: "message",
    role: "assistant",
    model,
    content: [
      ...(text ? [{ type: "text", text }] : []),
      ...p.calls.map((c) => ({ type: "tool_use", id: c.id, name: c.name, input: c.args })),
    ],
    stop_reason: p.calls.length ? "tool_use" : "end_turn",
    stop_sequence: null,
    usage: p.usage,
  };
}

export function anthropicError(status: number, message: string): Json {
  return {
    type: "error",
    error: {
      type: status === 429 ? "rate_limit_error" : status === 401 ? "authentication_error" : "api_error",
      message,
    },
  };
}
