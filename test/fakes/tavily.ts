/** The Tavily `/search` endpoint of the fake server. */
import type http from "node:http";
import { header, type Json, sleep } from "./common.ts";
import type { FakeSearch, SearchHandler } from "./types.ts";

/** Two results derived from the query (at most `max_results`). */
export const defaultSearch: SearchHandler = (s) => ({
  results: [
    {
      title: `First result for ${s.query}`,
      url: "https://example.com/1",
      content: "First snippet.",
      score: 0.9,
    },
    {
      title: `Second result for ${s.query}`,
      url: "https://example.com/2",
      content: "Second snippet.",
      score: 0.8,
    },
  ].slice(0, s.max_results ?? 5),
});

export async function handleSearch(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: Json,
  searches: FakeSearch[],
  searchHandler: SearchHandler,
) {
  const auth = header(req, "authorization");
  const s: FakeSearch = {
    query: String(body.query ?? ""),
    max_results: typeof body.max_results === "number" ? body.max_results : undefined,
    apiKey: auth?.startsWith("Bearer ") ? auth.slice(7) : (body.api_key as string | undefined),
    body,
  };
  searches.push(s);
  const r = await searchHandler(s);
  if (r.delayMs) await sleep(r.delayMs);
  if (res.destroyed) return;
  const status = r.status ?? 200;
  res.writeHead(status, { "content-type": "application/json" });
  res.end(
    JSON.stringify(
      status >= 400
        ? { detail: { error: `fake tavily error ${status}` } }
        : { query: s.query, answer: r.answer ?? null, results: r.results ?? [], response_time: 0.01 },
    ),
  );
}
