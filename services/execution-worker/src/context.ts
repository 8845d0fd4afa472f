import { AIMessage, type BaseMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import type { MessageRow } from "@synapse/shared";

/** The columns the context needs, in seq order. */
export type ContextRow = Pick<
  MessageRow,
  "id" | "seq" | "sender_type" | "sender_alias" | "content" | "tool_calls" | "tool_call_id" | "meta"
> &
  Partial<MessageRow>;

/** OpenAI accepts `name` only as [A-Za-z0-9_-]{1,64}; the readable sender stays in the content prefix. */
export function safeName(alias: string): string {
  const n = alias.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64);
  return n || "user";
}

const notice = (text: string) => new HumanMessage({ content: `[system notice] ${text}`, name: "system" });

/** Options of {@link buildHistory}. */
export interface HistoryOptions {
  /** the alias of the agent the chat is built for: its messages are the assistant side */
  self: string;
  /**
   * the agent's id: its messages carry it (`meta.agent_id`), so they stay its own after a rename;
   * messages without one are matched by alias
   */
  selfId?: string;
  /**
   * Anthropic and Gemini want user and assistant turns to alternate: consecutive user-side messages
   * are merged into one, and a notice is put between two assistant messages.
   * @defaultValue false
   */
  alternate?: boolean;
}

/**
 * Whether `agent` wrote `m`: by the agent id the orchestrator stores in `meta` (an agent's messages
 * stay its own after a rename), else, for messages without one, by alias (case-insensitive).
 */
export function isOwnMessage(m: ContextRow, agent: { alias: string; id?: string | undefined }): boolean {
  if (m.sender_type !== "agent") return false;
  const author = m.meta?.agent_id;
  return typeof author === "string" && agent.id
    ? author === agent.id
    : m.sender_alias.toLowerCase() === agent.alias.toLowerCase();
}

/**
 * The stored window as a chat from one agent's point of view:
 * - its own messages → AIMessage with its tool_calls; each answered call is followed at once by its
 *   ToolMessage (tool_call_id), so the protocol holds even when other messages came in between;
 * - calls with no result in the window are dropped (window cut, or still running), and results whose
 *   call is outside the window never appear; other agents' tool results are left out;
 * - people, other agents and the Orchestrator → HumanMessage with `name`, content `[sender]: text`;
 * - system notices → HumanMessage `[system notice] text` (never a SystemMessage mid-history);
 * - the first message is a user-side one, and so is the last unless it is a tool result.
 * The system prompt is not included: the caller puts it first.
 */
export function buildHistory(rows: readonly ContextRow[], opts: HistoryOptions): BaseMessage[] {
  const self = { alias: opts.self, id: opts.selfId };
  const isOwn = (m: ContextRow) => isOwnMessage(m, self);
  const results = new Map<string, ContextRow>();
  for (const m of rows)
    if (m.sender_type === "tool" && m.tool_call_id && !results.has(m.tool_call_id))
      results.set(m.tool_call_id, m);
  const ownCallIds = new Set<string>();
  const out: BaseMessage[] = [];

  for (const m of rows) {
    switch (m.sender_type) {
      case "tool":
        break; // own results are placed right after their call; others' are not this agent's business
      case "system":
        out.push(notice(m.content));
        break;
      case "agent":
        if (isOwn(m)) pushOwn(m);
        else pushOther(m);
        break;
      case "user":
        pushOther(m);
        break;
    }
  }

  function pushOwn(m: ContextRow) {
    const calls = (m.tool_calls ?? []).filter((c) => results.has(c.id) && !ownCallIds.has(c.id));
    if (!m.content.trim() && calls.length === 0) return;
    out.push(
      new AIMessage({
        content: m.content,
        tool_calls: calls.map((c) => ({ id: c.id, name: c.name, args: c.args, type: "tool_call" as const })),
      }),
    );
    for (const c of calls) {
      ownCallIds.add(c.id);
      const r = results.get(c.id)!;
      out.push(
        new ToolMessage({
          content: r.content || "(no output)",
          tool_call_id: c.id,
          name: r.sender_alias,
          status: r.meta?.is_error === true ? "error" : "success",
        }),
      );
    }
  }

  // people, other agents and the Orchestrator
  function pushOther(m: ContextRow) {
    const used = m.tool_calls?.length ? ` (called ${m.tool_calls.map((c) => c.name).join(", ")})` : "";
    if (!m.content.trim() && !used) return;
    out.push(
      new HumanMessage({
        content: `[${m.sender_alias}]: ${m.content}${used}`,
        name: safeName(m.sender_alias),
      }),
    );
  }

  if (out.length === 0) out.push(notice("The conversation is empty."));
  if (out[0] instanceof AIMessage) out.unshift(notice("Earlier messages are not shown."));
  const last = out.at(-1);
  if (last instanceof AIMessage) out.push(notice("No new messages since your last reply. Continue."));
  return opts.alternate ? alternate(out) : out;
}

const isUserSide = (m: BaseMessage) => m instanceof HumanMessage;

/** Merges consecutive user-side messages and separates consecutive assistant messages. */
function alternate(msgs: BaseMessage[]): BaseMessage[] {
  const out: BaseMessage[] = [];
  for (const m of msgs) {
    const prev = out.at(-1);
    if (prev && isUserSide(prev) && isUserSide(m)) {
      out[out.length - 1] = new HumanMessage({ content: `${prev.text}\n\n${m.text}` });
      continue;
    }
    if (prev instanceof AIMessage && m instanceof AIMessage && !prev.tool_calls?.length)
      out.push(notice("(no messages in between)"));
    out.push(m);
  }
  return out;
}
