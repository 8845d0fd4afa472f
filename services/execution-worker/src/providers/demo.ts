import { randomUUID } from "node:crypto";
import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import type { BaseLanguageModelInput } from "@langchain/core/language_models/base";
import {
  BaseChatModel,
  type BaseChatModelCallOptions,
  type BindToolsInput,
} from "@langchain/core/language_models/chat_models";
import { AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import type { Runnable } from "@langchain/core/runnables";
import { clip } from "@synapse/shared";
import type { AgentRow } from "../agents.ts";
import { type ContextRow, isOwnMessage } from "../context.ts";
import type { ProviderContext, ProviderFactory } from "./types.ts";

/**
 * `demo`: an offline, rule-based stand-in for an LLM, so a fresh install has a working chat with no
 * key. It says what it is in every reply and shows the whole flow: the Orchestrator delegates by
 * mention, an agent calls a tool (calculator for arithmetic, current_time for the time, web_search
 * for searches) and answers with its result, and the Orchestrator completes with TASK_COMPLETE.
 * It works on the stored history window (not on prompts) and streams its reply word by word.
 */

export const DEMO_TAG = "[demo provider: offline and rule-based, not a real LLM]";

export interface DemoReply {
  text: string;
  toolCalls: { name: string; args: Record<string, unknown> }[];
}

const ARITHMETIC =
  /(?:\b(?:sqrt|abs|round|min|max)\s*\()?[-+(]*\s*\d[\d\s.,+\-*/%^()]*[+\-*/%^]\s*[\d(][\d\s.+\-*/%^()]*/i;
const TIME = /\b(time|date|clock|today|what day)\b/i;
const SEARCH = /\b(search|look up|lookup|find|latest|news|who is|what is)\b/i;

/** The arithmetic expression in a text, if any ("what is 12 * (3 + 4)?" → "12 * (3 + 4)"). */
export function findExpression(text: string): string | undefined {
  const m = ARITHMETIC.exec(text);
  if (!m) return undefined;
  let expr = m[0].trim().replace(/,/g, "");
  // drop unbalanced trailing/leading parentheses picked up from prose
  while (expr.endsWith("(") || (count(expr, ")") > count(expr, "(") && expr.endsWith(")")))
    expr = expr.slice(0, -1).trim();
  while (count(expr, "(") > count(expr, ")") && expr.startsWith("(")) expr = expr.slice(1).trim();
  return /\d\s*[+\-*/%^]\s*[\d(]|\(/.test(expr) ? expr : undefined;
}
const count = (s: string, ch: string) => s.split(ch).length - 1;

/** Text of a stored message without mentions, so quoting it never dispatches anyone. */
const quote = (s: string, max = 300) =>
  clip(
    s
      .replace(/@\[([^\]]*)\]/g, "$1")
      .replace(/@(?=\w)/g, "")
      .replace(/\s+/g, " ")
      .trim(),
    max,
  );

function isPerson(m: ContextRow): boolean {
  return m.sender_type === "user";
}

function pickAgent(task: string, team: AgentRow[]): AgentRow | undefined {
  const agents = team.filter((a) => !a.is_orchestrator);
  const withTool = (t: string) => agents.find((a) => a.tools.includes(t));
  if (findExpression(task)) return withTool("calculator") ?? agents[0];
  if (TIME.test(task)) return withTool("current_time") ?? agents[0];
  if (SEARCH.test(task)) return withTool("web_search") ?? agents[0];
  return agents[0];
}

function orchestratorReply(ctx: ProviderContext): DemoReply {
  const { history, team, agent } = ctx;
  let lastPerson = -1;
  for (let i = history.length - 1; i >= 0; i--)
    if (isPerson(history[i]!)) {
      lastPerson = i;
      break;
    }
  if (lastPerson < 0)
    return { text: `${DEMO_TAG} Nothing to do yet: write a message to start.`, toolCalls: [] };
  const task = history[lastPerson]!.content;
  const after = history.slice(lastPerson + 1);
  const answers = after.filter(
    (m) => m.sender_type === "agent" && !isOwnMessage(m, agent) && !m.tool_calls?.length,
  );
  const notices = after.filter((m) => m.sender_type === "system");
  const delegated = after.some((m) => isOwnMessage(m, agent));
  if (answers.length || notices.length || delegated) {
    const summary = answers.map((m) => `${m.sender_alias} said: "${quote(m.content, 200)}"`).join(" ");
    const problems = notices.length ? ` There were ${notices.length} problem notice(s).` : "";
    return {
      text: `${DEMO_TAG} The team has answered. ${summary || "No agent answered."}${problems} That completes the request.\nTASK_COMPLETE`,
      toolCalls: [],
    };
  }
  const pick = pickAgent(task, team);
  if (!pick)
    return {
      text: `${DEMO_TAG} I'm the Orchestrator. This group has no agents yet, so there is nobody to delegate "${quote(task, 120)}" to. Add an agent and ask again.\nTASK_COMPLETE`,
      toolCalls: [],
    };
  return {
    text: `${DEMO_TAG} @[${pick.alias}] please handle this request: "${quote(task)}"`,
    toolCalls: [],
  };
}

function agentReply(ctx: ProviderContext, tools: string[]): DemoReply {
  const { history, agent } = ctx;
  const last = history.at(-1);
  // answering after my own tool calls: report their results
  if (last?.sender_type === "tool") {
    const mine = new Set<string>();
    for (const m of history) if (isOwnMessage(m, agent)) for (const c of m.tool_calls ?? []) mine.add(c.id);
    const results = history.filter(
      (m) => m.sender_type === "tool" && m.tool_call_id && mine.has(m.tool_call_id),
    );
    const lines = results.slice(-5).map((r) => `${r.sender_alias} returned: ${quote(r.content, 400)}`);
    return {
      text: `${DEMO_TAG} I'm ${agent.alias}. ${lines.join(" ") || "My tools returned nothing."}`,
      toolCalls: [],
    };
  }
  const request = [...history].reverse().find((m) => m.sender_type !== "tool" && !isOwnMessage(m, agent));
  const task = request?.content ?? "";
  const expr = findExpression(task);
  if (expr && tools.includes("calculator"))
    return { text: "", toolCalls: [{ name: "calculator", args: { expression: expr } }] };
  if (TIME.test(task) && tools.includes("current_time"))
    return { text: "", toolCalls: [{ name: "current_time", args: {} }] };
  if (SEARCH.test(task) && tools.includes("web_search"))
    return { text: "", toolCalls: [{ name: "web_search", args: { query: quote(task, 200) || "news" } }] };
  return {
    text: `${DEMO_TAG} I'm ${agent.alias}. I received: "${quote(task, 200)}". I can only run simple rules (arithmetic, the time, searches) — configure an OpenAI, Claude or Gemini key and choose that provider for real answers.`,
    toolCalls: [],
  };
}

/** The demo's answer for a call, from the history window alone. */
export function demoReply(ctx: ProviderContext, tools: string[]): DemoReply {
  return ctx.agent.is_orchestrator ? orchestratorReply(ctx) : agentReply(ctx, tools);
}

function toolName(t: BindToolsInput): string | undefined {
  const b = t as { name?: unknown; function?: { name?: unknown } };
  if (typeof b.function?.name === "string") return b.function.name;
  return typeof b.name === "string" ? b.name : undefined;
}

/** Options of the demo model. */
export interface DemoOptions {
  /**
   * Pause between streamed words, so a reply reads as it streams; 0 streams at once.
   * @defaultValue 0
   */
  wordDelayMs?: number;
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A LangChain chat model around {@link demoReply}, streamed like the real providers. */
export class DemoChatModel extends BaseChatModel {
  constructor(
    private readonly ctx: ProviderContext,
    private readonly tools: string[] = [],
    private readonly opts: DemoOptions = {},
  ) {
    super({});
  }

  _llmType(): string {
    return "synapse-demo";
  }

  override bindTools(
    tools: BindToolsInput[],
  ): Runnable<BaseLanguageModelInput, AIMessageChunk, BaseChatModelCallOptions> {
    return new DemoChatModel(
      this.ctx,
      tools.map(toolName).filter((n): n is string => !!n),
      this.opts,
    ) as unknown as Runnable<BaseLanguageModelInput, AIMessageChunk, BaseChatModelCallOptions>;
  }

  override async *_streamResponseChunks(
    _messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const reply = demoReply(this.ctx, this.tools);
    const words = reply.text.match(/\S+\s*|\s+/g) ?? [];
    const inputTokens = Math.ceil(this.ctx.history.reduce((n, m) => n + m.content.length, 0) / 4) + 50;
    const delay = this.opts.wordDelayMs ?? 0;
    for (const [i, w] of words.entries()) {
      options.signal?.throwIfAborted();
      if (delay > 0 && i > 0) await pause(delay, options.signal);
      // yield to the event loop between words, as a network stream would
      else await new Promise((r) => setImmediate(r));
      yield new ChatGenerationChunk({ text: w, message: new AIMessageChunk({ content: w }) });
      await runManager?.handleLLMNewToken(w);
    }
    options.signal?.throwIfAborted();
    yield new ChatGenerationChunk({
      text: "",
      message: new AIMessageChunk({
        content: "",
        tool_call_chunks: reply.toolCalls.map((c, index) => ({
          type: "tool_call_chunk" as const,
          index,
          id: `demo_${randomUUID().slice(0, 8)}`,
          name: c.name,
          args: JSON.stringify(c.args),
        })),
        usage_metadata: {
          input_tokens: inputTokens,
          output_tokens: Math.max(1, words.length + reply.toolCalls.length * 8),
          total_tokens: inputTokens + words.length,
        },
      }),
    });
  }

  async _generate(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): Promise<ChatResult> {
    let acc: ChatGenerationChunk | undefined;
    for await (const c of this._streamResponseChunks(messages, options, runManager))
      acc = acc ? acc.concat(c) : c;
    return { generations: acc ? [{ text: acc.text, message: acc.message }] : [] };
  }
}

/** The `demo` provider: needs no key, no network. */
export function demoProvider(opts: DemoOptions = {}): ProviderFactory {
  return (ctx) => new DemoChatModel(ctx, [], opts);
}
