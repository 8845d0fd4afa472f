import { ChatGoogleGenerativeAI } from "@langchain/google-genai";
import { type ProviderFactory, reusingModels } from "./types.ts";

/** Options of {@link geminiProvider}. */
export interface GeminiProviderOptions {
  apiKey: string;
  /** without the API version (the SDK appends `/v1beta/models/...`) @defaultValue https://generativelanguage.googleapis.com */
  baseUrl?: string;
}

interface Content {
  role: string;
  parts: unknown[];
}

/**
 * Gemini wants one content per turn: the function responses answering one model turn in a single
 * content, and no two consecutive contents of the same role. LangChain sends one content per
 * ToolMessage, so consecutive same-role contents are merged before the request leaves.
 */
export function mergeSameRoleContents(contents: Content[]): Content[] {
  const out: Content[] = [];
  for (const c of contents) {
    const prev = out.at(-1);
    if (prev && prev.role === c.role) prev.parts = [...prev.parts, ...c.parts];
    else out.push({ ...c, parts: [...c.parts] });
  }
  return out;
}

type StreamFn = (request: unknown, options?: unknown) => Promise<unknown>;

/** `gemini`, through ChatGoogleGenerativeAI, always streamed (its invoke ignores the AbortSignal). */
export function geminiProvider(opts: GeminiProviderOptions): ProviderFactory {
  return reusingModels((agent) => {
    const model = new ChatGoogleGenerativeAI({
      model: agent.model,
      temperature: agent.temperature,
      apiKey: opts.apiKey,
      baseUrl: opts.baseUrl ?? "https://generativelanguage.googleapis.com",
      maxRetries: 0,
      streaming: true,
      streamUsage: true,
    });
    // `client` is private in the typings; it is the @google/generative-ai GenerativeModel
    const client = (model as unknown as { client: { generateContentStream: StreamFn } }).client;
    const original = client.generateContentStream.bind(client);
    client.generateContentStream = async (request, options) => {
      const r = request as { contents?: Content[] };
      const out = (await original(
        r && Array.isArray(r.contents) ? { ...r, contents: mergeSameRoleContents(r.contents) } : request,
        options,
      )) as { response?: Promise<unknown> };
      // the SDK tees the stream into `response`, which LangChain never awaits: when the stream is
      // aborted that promise rejects, and an unhandled rejection would take the process down
      out.response?.catch(() => undefined);
      return out;
    };
    return model;
  });
}
