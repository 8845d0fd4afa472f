/** The Gemini generateContent protocol of the fake LLM server: request normalization and replies. */
import { type Json, type Normalized, type Planned, type SseWriter, textOf } from "./common.ts";
import type { FakeMessage } from "./types.ts";

export function normalizeGemini(body: Json, model: string): Normalized {
  const messages: FakeMessage[] = [];
  for (const c of body.contents as Json[]) {
    const parts = (c.parts ?? []) as Json[];
    if (c.role === "model") {
      const calls = parts
        .filter((p) => p.functionCall)
        .map((p) => ({
          id: p.functionCall.id ?? p.functionCall.name,
          name: p.functionCall.name,
          args: p.functionCall.args ?? {},
        }));
      messages.push({
        role: "assistant",
        content: textOf(parts.filter((p) => typeof p.text === "string" && !p.thought)),
        ...(calls.length ? { tool_calls: calls } : {}),
      });
      continue;
    }
    for (const p of parts.filter((x) => x.functionResponse)) {
      const r = p.functionResponse.response ?? {};
      const value = r.error !== undefined ? (r.error.details ?? r.error) : (r.result ?? r);
      messages.push({
        role: "tool",
        content: typeof value === "string" ? value : JSON.stringify(value),
        tool_call_id: p.functionResponse.id ?? p.functionResponse.name,
        ...(r.error !== undefined ? { is_error: true } : {}),
      });
    }
    const text = parts.filter((p) => typeof p.text === "string");
    if (text.length) messages.push({ role: "user", content: textOf(text) });
  }
  const si = body.systemInstruction;
  const system = si === undefined ? undefined : typeof si === "string" ? si : textOf(si.parts ?? []);
  const tools = ((body.tools as Json[] | undefined) ?? []).flatMap((t) =>
    ((t.functionDeclarations as Json[] | undefined) ?? []).map((f) => f.name as string),
  );
  return { model, messages, system, tools };
}

function geminiChunk(parts: Json[], finish: string | null, usage?: Planned["usage"]): Json {
  return {
    candidates: [
      { content: { role: "model", parts }, index: 0, ...(finish ? { finishReason: finish } : {}) },
    ],
    ...(usage
      ? {
          usageMetadata: {
            promptTokenCount: usage.input_tokens,
            candidatesTokenCount: usage.output_tokens,
            totalTokenCount: usage.input_tokens + usage.output_tokens,
          },
        }
      : {}),
    modelVersion: "fake",
  };
}

export async function streamGemini(sse: SseWriter, p: Planned) {
  for (const d of p.deltas)
    if (!(await sse.write(JSON.stringify(geminiChunk([{ text: d }], null)), { pause: true }))) return;
  const callParts = p.calls.map((c) => ({ functionCall: { name: c.name, args: c.args } }));
  await sse.write(
    JSON.stringify(geminiChunk(callParts.length ? callParts : [{ text: "" }], "STOP", p.usage)),
    {
      pause: true,
    },
  );
}

export function completeGemini(p: Planned): Json {
  const text = p.deltas.join("");
  return geminiChunk(
    [...(text ? [{ text }] : []), ...p.calls.map((c) => ({ functionCall: { name: c.name, args: c.args } }))],
    "STOP",
    p.usage,
  );
}

export function geminiError(status: number, message: string): Json {
  return { error: { code: status, message, status: status === 429 ? "RESOURCE_EXHAUSTED" : "INTERNAL" } };
}
