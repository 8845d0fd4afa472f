import { cutGraphemes } from "@synapse/shared";
import { withDeadline } from "../deadline.ts";

/** Options of {@link webSearch}. */
export interface WebSearchOptions {
  apiKey: string;
  /** @defaultValue https://api.tavily.com */
  baseUrl?: string;
  signal: AbortSignal;
  /** @defaultValue 30000 */
  timeoutMs?: number;
}

/** A failed search (HTTP error or unreadable answer); returned to the agent as an error result. */
export class WebSearchError extends Error {
  override name = "WebSearchError";
}

interface TavilyResult {
  title?: string;
  url?: string;
  content?: string;
}

/**
 * Tavily search by a plain POST to `<base>/search` (the @tavily/core client takes no AbortSignal),
 * so a cancel aborts the request. Returns the results as numbered text.
 */
export async function webSearch(query: string, maxResults: number, opts: WebSearchOptions): Promise<string> {
  const base = (opts.baseUrl ?? "https://api.tavily.com").replace(/\/+$/, "");
  const deadline = withDeadline(opts.signal, opts.timeoutMs ?? 30_000);
  try {
    let res: Response;
    try {
      res = await fetch(`${base}/search`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${opts.apiKey}` },
        body: JSON.stringify({
          query,
          max_results: maxResults,
          search_depth: "basic",
          include_answer: false,
        }),
        signal: deadline.signal,
      });
    } catch (err) {
      if (opts.signal.aborted) throw err;
      throw new WebSearchError(
        deadline.timedOut ? "web_search timed out" : "web_search failed: Tavily is unreachable",
      );
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      const why = res.status === 401 || res.status === 403 ? " (check TAVILY_API_KEY)" : "";
      throw new WebSearchError(`web_search failed: Tavily answered HTTP ${res.status}${why}`);
    }
    const body = (await res.json().catch(() => undefined)) as
      | { answer?: string; results?: TavilyResult[] }
      | undefined;
    if (!body || !Array.isArray(body.results))
      throw new WebSearchError("web_search failed: unreadable answer from Tavily");
    if (body.results.length === 0) return `No results for "${query}".`;
    const lines = body.results.map(
      (r, i) =>
        `${i + 1}. ${r.title ?? "(untitled)"} — ${r.url ?? ""}\n   ${cutGraphemes((r.content ?? "").replace(/\s+/g, " "), 500)}`,
    );
    return `${body.answer ? `Answer: ${body.answer}\n\n` : ""}Results for "${query}":\n${lines.join("\n")}`;
  } finally {
    deadline.release();
  }
}
