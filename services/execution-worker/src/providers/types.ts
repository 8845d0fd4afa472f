import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { AgentRow } from "../agents.ts";
import type { ContextRow } from "../context.ts";

/** What a provider knows about the call it is built for. */
export interface ProviderContext {
  /** the agent being called (provider, model, temperature, tools) */
  agent: AgentRow;
  /** every agent of the group, the Orchestrator first */
  team: AgentRow[];
  /** the stored messages of the call's context window, in the order the call sees them (used by the offline demo only) */
  history: readonly ContextRow[];
}

/**
 * Builds the LangChain chat model for one call. Implementations must not retry by themselves
 * (the worker retries with backoff) and must support `.stream()` with an AbortSignal.
 */
export type ProviderFactory = (ctx: ProviderContext) => BaseChatModel;

/**
 * A factory that builds one chat model per (model, temperature) and reuses it: LangChain's chat
 * models keep no per-call state (options such as the AbortSignal and tools come with each call), and
 * building one — an SDK client with its headers and fetch set-up — costs more CPU than a call to a
 * fast local server. At most `max` models are kept (the oldest goes first).
 */
export function reusingModels(build: (agent: AgentRow) => BaseChatModel, max = 256): ProviderFactory {
  const models = new Map<string, BaseChatModel>();
  return ({ agent }) => {
    const key = `${agent.model}\u0000${agent.temperature ?? ""}`;
    let model = models.get(key);
    if (!model) {
      if (models.size >= max) models.delete(models.keys().next().value as string);
      model = build(agent);
      models.set(key, model);
    }
    return model;
  };
}
