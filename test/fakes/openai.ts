/** The OpenAI chat-completions protocol of the fake LLM server: request normalization and replies. */
import { randomUUID } from "node:crypto";
import { type Json, type Normalized, type Planned, parseArgs, type SseWriter, textOf } from "./common.ts";
import type { FakeMessage } from "./types.ts";

export function normalizeOpenAI(body: Json): Normalized {
  const messages: FakeMessage[] = [];
  let system: string | undefined;
  (body.messages as Json[]).forEach((m, i) => {
    const role = m.role === "developer" ? "system" : m.role;
    if (role === "system" && i === 0) {
      system = textOf(m.content);
      return;
    }
    const out: FakeMessage = { role, content: textOf(m.content) };
    if (m.name) out.name = m.name;
    if (m.tool_calls?.length)
      out.tool_calls = (m.tool_calls as Json[]).map((tc) => ({
        id: tc.id,
        name: tc.function.name,
        args: parseArgs(tc.function.arguments),
      }));
    if (m.tool_call_id) out.tool_call_id = m.tool_call_id;
    messages.push(out);
  });
  const tools = ((body.tools as Json[] | undefined) ?? []).map((t) => t.function?.name ?? t.name);
  return { model: body.model, messages, system, tools };
}

export async function streamOpenAI(sse: SseWriter, p: Planned, model: string, includeUsage: boolean) {
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: Json, finish: string | null = null) =>
    JSON.stringify({
      id,
      object: "chat.completion.chunk",
      created,
      model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    });
  await sse.write(chunk({ role: "assistant", content: "" }));
  for (const d of p.deltas) if (!(await sse.write(chunk({ content: d }), { pause: true }))) return;
  for (const [index, c] of p.calls.entries()) {
    const args = JSON.stringify(c.args);
    const half = Math.ceil(args.length / 2);
    await sse.write(
      chunk({
        tool_calls: [{ index, id: c.id, type: "function", function: { name: c.name, arguments: "" } }],
      }),
      { pause: true },
    );
    for (const piece of [args.slice(0, half), args.slice(half)])
      if (
        !(await sse.write(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }), {
          pause: true,
        }))
      )
        return;
  }
  await sse.write(chunk({}, p.calls.length ? "tool_calls" : "stop"));
  if (includeUsage)
    await sse.write(
      JSON.stringify({
        id,
        object: "chat.completion.chunk",
        created,
        model,
        choices: [],
        usage: {
          prompt_tokens: p.usage.input_tokens,
          completion_tokens: p.usage.output_tokens,
          total_tokens: p.usage.input_tokens + p.usage.output_tokens,
        },
      }),
    );
  await sse.write("[DONE]");
}

export function completeOpenAI(p: Planned, model: string): Json {
  return {
    id: `chatcmpl-${randomUUID()}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: p.deltas.join("") || (p.calls.length ? null : ""),
          ...(p.calls.length
            ? {
                tool_calls: p.calls.map((c) => ({
                  id: c.id,
                  type: "function",
                  function: { name: c.name, arguments: JSON.stringify(c.args) },
                })),
              }
            : {}),
        },
        finish_reason: p.calls.length ? "tool_calls" : "stop",
      },
    ],
    usage: {
      prompt_tokens: p.usage.input_tokens,
      completion_tokens: p.usage.output_tokens,
      total_tokens: p.usage.input_tokens + p.usage.output_tokens,
    },
  };
}

export function openaiError(status: number, message: string): Json {
  return { error: { message, type: status === 429 ? "rate_limit_exceeded" : "api_error", code: null } };
}
