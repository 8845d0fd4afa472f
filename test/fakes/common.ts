/** Helpers shared by the protocol modules of the fake LLM server: JSON/text helpers, reply planning, SSE. */
import { randomUUID } from "node:crypto";
import type http from "node:http";
import type { FakeProvider, FakeReply, FakeRequest } from "./types.ts";

// biome-ignore lint/suspicious/noExplicitAny: free-form wire payloads
export type Json = Record<string, any>;

/** What a protocol's request normalization yields. */
export type Normalized = Pick<FakeRequest, "messages" | "system" | "tools" | "model">;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content))
    return content
      .map((p) => (p && typeof p === "object" && "text" in p && typeof p.text === "string" ? p.text : ""))
      .join("");
  return "";
}

export function parseArgs(s: unknown): Record<string, unknown> {
  if (typeof s !== "string") return (s as Record<string, unknown>) ?? {};
  try {
    return JSON.parse(s) as Record<string, unknown>;
  } catch {
    return { _unparsed: s };
  }
}

export interface Planned {
  deltas: string[];
  calls: { id: string; name: string; args: Record<string, unknown> }[];
  usage: { input_tokens: number; output_tokens: number };
}

export function plan(reply: FakeReply, provider: FakeProvider): Planned {
  const deltas = reply.chunks ?? (reply.text ? (reply.text.match(/\S+\s*|\s+/g) ?? []) : []);
  const prefix = provider === "anthropic" ? "toolu_" : "call_";
  const calls = (reply.toolCalls ?? []).map((c) => ({
    id: c.id ?? `${prefix}${randomUUID().replaceAll("-", "").slice(0, 20)}`,
    name: c.name,
    args: c.args,
  }));
  return {
    deltas,
    calls,
    usage: reply.usage ?? { input_tokens: 11, output_tokens: Math.max(1, deltas.length + calls.length) },
  };
}

/** Writes SSE frames until done or the client leaves; returns false when the client left. */
export class SseWriter {
  constructor(
    private res: http.ServerResponse,
    private delayMs: number,
  ) {}
  gone = false;
  async write(data: string, opts: { event?: string; pause?: boolean } = {}): Promise<boolean> {
    if (this.gone || this.res.destroyed) return false;
    if (opts.pause && this.delayMs > 0) await sleep(this.delayMs);
    if (this.gone || this.res.destroyed) return false;
    this.res.write(`${opts.event ? `event: ${opts.event}\n` : ""}data: ${data}\n\n`);
    return true;
  }
}

export async function readBody(req: http.IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks).toString("utf8");
  return raw ? (JSON.parse(raw) as Json) : {};
}

export function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
