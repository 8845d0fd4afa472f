import { randomUUID } from "node:crypto";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { type AIMessageChunk, type BaseMessage, SystemMessage } from "@langchain/core/messages";
import {
  type Config,
  type ExecutionResult,
  endPartial,
  type LlmJob,
  type Logger,
  normalizeProvider,
  ProviderError,
  publishToken,
  type ToolCall,
} from "@synapse/shared";
import {
  bounded,
  llmCallDuration,
  llmFailures,
  llmRetries,
  llmTokens,
} from "@synapse/shared/telemetry/metrics";
import { capturedText, inSpan, markFailed, SpanKind } from "@synapse/shared/telemetry/tracing";
import type { Redis } from "ioredis";
import type pg from "pg";
import { loadCallContext } from "./agents.ts";
import { TurnCancelledError, turnGoneBeforeStart } from "./cancel.ts";
import { buildHistory } from "./context.ts";
import { withDeadline } from "./deadline.ts";
import { systemPrompt } from "./prompts.ts";
import { ProviderTimeoutError } from "./providers/errors.ts";
import type { ProviderRegistry } from "./providers/registry.ts";
import { type BackoffOptions, backoffMs, classifyProviderError, sleep } from "./providers/retry.ts";
import { TokenStream } from "./token-stream.ts";
import { toolDefinitions } from "./tools/registry.ts";

/** What an llm job needs. */
export interface LlmJobDeps {
  config: Pick<
    Config,
    "CONTEXT_MESSAGES" | "LLM_TIMEOUT_MS" | "LLM_MAX_RETRIES" | "OPENAI_ENDPOINTS" | "QUEUE_PREFIX"
  > &
    Partial<Pick<Config, "OTEL_CAPTURE_CONTENT">>;
  pool: pg.Pool;
  /**
   * Publishes `token` frames: the connection the call's result is then added on, so that its tokens
   * reach Redis before the result without waiting for their replies (one connection keeps the order).
   */
  redis: Redis;
  providers: ProviderRegistry;
  backoff?: BackoffOptions;
}

interface Reply {
  content: string;
  tool_calls: ToolCall[];
  usage: { input_tokens: number; output_tokens: number };
}

/** One streamed call: deltas to `onDelta`, then the whole reply. Throws on failure or abort. */
async function streamOnce(
  model: BaseChatModel,
  messages: BaseMessage[],
  tools: object[],
  signal: AbortSignal,
  onDelta: (d: string) => void,
): Promise<Reply> {
  const runnable = tools.length ? model.bindTools!(tools) : model;
  const stream = await runnable.stream(messages, { signal });
  let acc: AIMessageChunk | undefined;
  let content = "";
  for await (const chunk of stream) {
    signal.throwIfAborted();
    // .text joins every text part of multi-part content (never just the first)
    const delta = chunk.text;
    if (delta) {
      content += delta;
      onDelta(delta);
    }
    acc = acc ? acc.concat(chunk) : chunk;
  }
  // some clients end the stream quietly when aborted: an aborted call never counts as a reply
  signal.throwIfAborted();
  const seen = new Set<string>();
  const calls: ToolCall[] = [];
  const raw = [
    ...(acc?.tool_calls ?? []),
    // unparseable arguments still reach the tool job, which reports them to the agent
    ...(acc?.invalid_tool_calls ?? []).map((c) => ({ id: c.id, name: c.name ?? "unknown", args: {} })),
  ];
  for (const c of raw) {
    let id = c.id || `call_${randomUUID().slice(0, 12)}`;
    if (seen.has(id)) id = `${id}_${calls.length}`;
    seen.add(id);
    calls.push({ id, name: c.name, args: (c.args ?? {}) as Record<string, unknown> });
  }
  const usage = acc?.usage_metadata;
  return {
    content,
    tool_calls: calls,
    usage: { input_tokens: usage?.input_tokens ?? 0, output_tokens: usage?.output_tokens ?? 0 },
  };
}

/**
 * Runs one LLM call of one agent: builds its context, streams the reply with retries (token frames
 * published as it comes), and returns the result for the orchestrator. A provider failure is an
 * `llm_error` result; a cancel throws {@link TurnCancelledError}; infrastructure errors (database,
 * Redis) throw so BullMQ retries the job. It returns before the replies to its last token frames
 * have come: add the result on `deps.redis`, behind them.
 */
export async function runLlmJob(
  job: LlmJob,
  signal: AbortSignal,
  deps: LlmJobDeps,
  log: Logger,
): Promise<ExecutionResult> {
  const base = { alias: job.alias, agent_id: job.agent_id, message_id: job.message_id };
  const llmError = (code: string, detail: string): ExecutionResult => ({
    kind: "llm_error",
    ok: false,
    ...base,
    error: { code, detail },
  });

  const {
    team,
    window: rows,
    turnStatus,
  } = await loadCallContext(deps.pool, job, deps.config.CONTEXT_MESSAGES);
  // a group always has its Orchestrator: no team, no group
  if (signal.aborted || turnGoneBeforeStart(turnStatus, team.length > 0))
    throw new TurnCancelledError(job.turn_id);
  const agent = team.find((a) => a.id === job.agent_id);
  if (!agent) return llmError("agent_not_found", `agent ${job.alias} no longer exists in this group`);

  let factory: ReturnType<ProviderRegistry["resolve"]>;
  try {
    factory = deps.providers.resolve(agent.provider);
  } catch (err) {
    if (err instanceof ProviderError) return llmError(err.code, err.message);
    throw err;
  }
  const provider = normalizeProvider(deps.config, agent.provider) ?? agent.provider;
  const messages = [
    new SystemMessage(systemPrompt(agent, team)),
    ...buildHistory(rows, {
      self: agent.alias,
      selfId: agent.id,
      alternate: provider === "claude" || provider === "gemini",
    }),
  ];
  const tools = toolDefinitions(agent.tools);
  const prefix = deps.config.QUEUE_PREFIX;
  const tokens = new TokenStream(
    (delta, offset) =>
      publishToken(deps.redis, prefix, {
        type: "token",
        group_id: job.group_id,
        turn_id: job.turn_id,
        alias: job.alias,
        message_id: job.message_id,
        delta,
        offset,
      }),
    signal,
    (err) => log.warn({ err: String(err) }, "token publish failed"),
  );
  // sent ahead of the result on the same connection, its reply not waited for
  const endReply = (outcome: "stored" | "failed") =>
    void endPartial(deps.redis, prefix, job.group_id, job.message_id, outcome).catch((err: unknown) =>
      log.warn({ err: String(err) }, "ending the reply's stored text failed"),
    );

  const attempts = 1 + deps.config.LLM_MAX_RETRIES;
  const labels = { provider, model: bounded("model", agent.model) };
  const callStarted = performance.now();
  const observe = (outcome: "ok" | "error") =>
    llmCallDuration.observe({ ...labels, outcome }, (performance.now() - callStarted) / 1000);
  return inSpan(
    `chat ${agent.model}`,
    {
      parent: job.trace,
      kind: SpanKind.CLIENT,
      attributes: {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": provider,
        "gen_ai.request.model": agent.model,
        "synapse.turn_id": job.turn_id,
        "synapse.alias": job.alias,
      },
    },
    async (span) => {
      const fail = (code: string, detail: string) => {
        observe("error");
        llmFailures.inc({ ...labels, code });
        markFailed(span, code);
        return llmError(code, detail);
      };
      for (let attempt = 1; ; attempt++) {
        const started = Date.now();
        const deadline = withDeadline(signal, deps.config.LLM_TIMEOUT_MS);
        tokens.newAttempt();
        try {
          const model = factory({ agent, team, history: rows });
          const reply = await streamOnce(model, messages, tools, deadline.signal, (d) => tokens.push(d));
          // handed to Redis ahead of the result (same connection); their replies are not waited for
          void tokens.flush();
          endReply("stored");
          log.info(
            {
              provider,
              model: agent.model,
              llm_attempt: attempt,
              ms: Date.now() - started,
              input_tokens: reply.usage.input_tokens,
              output_tokens: reply.usage.output_tokens,
              tool_calls: reply.tool_calls.length,
            },
            "llm call done",
          );
          observe("ok");
          llmTokens.inc({ ...labels, direction: "input" }, reply.usage.input_tokens);
          llmTokens.inc({ ...labels, direction: "output" }, reply.usage.output_tokens);
          span.setAttributes({
            "gen_ai.usage.input_tokens": reply.usage.input_tokens,
            "gen_ai.usage.output_tokens": reply.usage.output_tokens,
            "synapse.llm.attempts": attempt,
          });
          // the reply may hold personal data: only when asked for
          if (deps.config.OTEL_CAPTURE_CONTENT)
            span.setAttribute("synapse.reply", capturedText(reply.content));
          return { kind: "llm", ok: true, ...base, ...reply };
        } catch (err) {
          // the attempt is over: its timer must not outlive it through the backoff
          deadline.release();
          await tokens.flush();
          if (signal.aborted) throw new TurnCancelledError(job.turn_id);
          const c = deadline.timedOut
            ? classifyProviderError(new ProviderTimeoutError(provider, deps.config.LLM_TIMEOUT_MS), provider)
            : classifyProviderError(err, provider);
          log.warn(
            {
              provider,
              model: agent.model,
              llm_attempt: attempt,
              ms: Date.now() - started,
              status: c.status,
              retryable: c.retryable,
            },
            "llm call failed",
          );
          if (!c.retryable || attempt >= attempts) {
            // no message will have this id: its text must not be offered to sockets that join
            endReply("failed");
            return c.retryable
              ? fail("provider_unavailable", `${c.detail} (after ${attempt} attempts)`)
              : fail("provider_rejected", c.detail);
          }
          llmRetries.inc(labels);
          try {
            await sleep(backoffMs(attempt, c.retryAfterMs, deps.backoff), signal);
          } catch {
            throw new TurnCancelledError(job.turn_id);
          }
        } finally {
          deadline.release();
        }
      }
    },
  );
}
