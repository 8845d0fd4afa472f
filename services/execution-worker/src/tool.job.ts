import { type Config, type ExecutionResult, isToolName, type ToolJob } from "@synapse/shared";
import { toolCallDuration, toolErrors } from "@synapse/shared/telemetry/metrics";
import { capturedText, inSpan, markFailed } from "@synapse/shared/telemetry/tracing";
import type pg from "pg";
import { TurnCancelledError, turnGoneBeforeStart } from "./cancel.ts";
import { runTool, type ToolOutcome } from "./tools/registry.ts";

/** What a tool job needs. */
export interface ToolJobDeps {
  config: Pick<Config, "TAVILY_API_KEY" | "TAVILY_BASE_URL"> & Partial<Pick<Config, "OTEL_CAPTURE_CONTENT">>;
  pool: pg.Pool;
  now?: () => Date;
}

/**
 * Runs one tool call of an agent. Only the agent's own tools run; every failure (unknown tool, bad
 * arguments, missing key, HTTP error) is a result with `is_error: true`. A cancel throws
 * {@link TurnCancelledError}.
 */
export async function runToolJob(
  job: ToolJob,
  signal: AbortSignal,
  deps: ToolJobDeps,
): Promise<ExecutionResult> {
  const { name, args, id } = job.tool_call;
  const { rows } = await deps.pool.query<{
    tools: string[] | null;
    turn_status: string | null;
    group_exists: boolean;
  }>(
    `select (select tools from agents where id = $1) as tools,
            (select status from turns where id = $2) as turn_status,
            exists (select 1 from groups where id = $3) as group_exists`,
    [job.agent_id, job.turn_id, job.group_id],
  );
  const agentTools = rows[0]?.tools;
  if (signal.aborted || turnGoneBeforeStart(rows[0]?.turn_status ?? null, rows[0]?.group_exists ?? false))
    throw new TurnCancelledError(job.turn_id);
  const attributes = {
    "gen_ai.operation.name": "execute_tool",
    "gen_ai.tool.name": name,
    "gen_ai.tool.call.id": id,
    "synapse.turn_id": job.turn_id,
    "synapse.alias": job.alias,
  };
  const outcome = await inSpan(`execute_tool ${name}`, { parent: job.trace, attributes }, async (span) => {
    let out: ToolOutcome;
    if (!agentTools) out = { content: `agent ${job.alias} no longer exists`, is_error: true };
    else if (isToolName(name) && !agentTools.includes(name))
      out = { content: `tool "${name}" is not available to ${job.alias}`, is_error: true };
    else {
      const started = performance.now();
      try {
        out = await runTool(name, args, { config: deps.config, signal, now: deps.now });
      } catch (err) {
        if (signal.aborted) throw new TurnCancelledError(job.turn_id);
        throw err;
      }
      const tool = isToolName(name) ? name : "unknown";
      toolCallDuration.observe(
        { tool, outcome: out.is_error ? "error" : "ok" },
        (performance.now() - started) / 1000,
      );
      if (out.is_error) toolErrors.inc({ tool });
    }
    if (out.is_error) markFailed(span, "tool_error");
    // arguments and output may hold personal data: only when asked for
    if (deps.config.OTEL_CAPTURE_CONTENT)
      span.setAttributes({
        "gen_ai.tool.call.arguments": capturedText(JSON.stringify(args)),
        "gen_ai.tool.call.result": capturedText(out.content),
      });
    return out;
  });
  if (signal.aborted) throw new TurnCancelledError(job.turn_id);
  return {
    kind: "tool",
    ok: true,
    alias: job.alias,
    agent_id: job.agent_id,
    message_id: job.message_id,
    tool_name: name,
    tool_call_id: id,
    content: outcome.content,
    is_error: outcome.is_error,
  };
}
