import { ChatOpenAI } from "@langchain/openai";
import { type ProviderFactory, reusingModels } from "./types.ts";

/** Options of {@link openaiProvider}. */
export interface OpenAIProviderOptions {
  /** a placeholder is sent when unset (OpenAI-compatible servers such as Ollama need none) */
  apiKey?: string;
  /** including the `/v1` path, e.g. `http://127.0.0.1:11434/v1` @defaultValue https://api.openai.com/v1 */
  baseURL?: string;
}

/** Reasoning models (o1, o3, gpt-5…) reject a temperature other than the default. */
const fixedTemperature = (model: string) =>
  /^o\d/.test(model) || (model.startsWith("gpt-5") && !model.startsWith("gpt-5-chat"));

/** `openai` and every OpenAI-compatible endpoint, through ChatOpenAI (Chat Completions, streamed). */
export function openaiProvider(opts: OpenAIProviderOptions): ProviderFactory {
  return reusingModels(
    (agent) =>
      new ChatOpenAI({
        model: agent.model,
        ...(fixedTemperature(agent.model) ? {} : { temperature: agent.temperature }),
        apiKey: opts.apiKey ?? "not-needed",
        // baseURL is passed even when undefined so that ChatOpenAI never falls back to process.env
        configuration: { baseURL: opts.baseURL ?? "https://api.openai.com/v1" },
        maxRetries: 0,
        streaming: true,
        streamUsage: true,
      }),
  );
}
