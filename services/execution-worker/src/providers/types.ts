import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { MessageRow } from "@synapse/shared";
import type { AgentRow } from "../agents.ts";

/** What a provider knows about the call it is built for. */
export interface ProviderContext {
  /** the agent being called (provider, model, temperature, tools) */
  agent: AgentRow;
  /** every agent of the group, the Orchestrator first */
  team: AgentRow[];
  /** the stored messages in the call's context window, oldest first (used by the offline demo only) */
  history: MessageRow[];
}

/**
 * Builds the LangChain chat model for one call. Implementations must not retry by themselves
 * (the worker retries with backoff) and must support `.stream()` with an AbortSignal.
 */
export type ProviderFactory = (ctx: ProviderContext) => BaseChatModel;
