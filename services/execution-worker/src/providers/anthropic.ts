import { ChatAnthropic } from "@langchain/anthropic";
import { type ProviderFactory, reusingModels } from "./types.ts";

/** Options of {@link anthropicProvider}. */
export interface AnthropicProviderOptions {
  apiKey: string;
  /** without `/v1` (the SDK appends `/v1/messages`) @defaultValue https://api.anthropic.com */
  baseURL?: string;
  /** @defaultValue 4096 */
  maxTokens?: number;
}

/** `claude` (alias `anthropic`), through ChatAnthropic (Messages API, streamed). */
export function anthropicProvider(opts: AnthropicProviderOptions): ProviderFactory {
  return reusingModels(
    (agent) =>
      new ChatAnthropic({
        model: agent.model,
        temperature: agent.temperature,
        apiKey: opts.apiKey,
        anthropicApiUrl: opts.baseURL ?? "https://api.anthropic.com",
        maxTokens: opts.maxTokens ?? 4096,
        maxRetries: 0,
        streaming: true,
      }),
  );
}
