import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { paths } from "./schema.ts";

/** Options of {@link createApi}. */
export interface ApiOptions {
  /** Origin of the gateway, e.g. `http://localhost:8000` (a path prefix is kept). */
  baseUrl: string;
  /** The current access token, read at each request; `null` sends none. */
  token?: () => string | null;
  /**
   * Called when a request that carried a token is answered 401 (the session expired or was
   * revoked). A failed login carries no token and does not call it.
   */
  onUnauthorized?: () => void;
  /** Fetch to use instead of the global one (tests, custom agents). */
  fetch?: (input: Request) => Promise<Response>;
}

/** The typed HTTP client of the gateway: `api.GET("/groups")`, `api.POST("/groups/{id}/messages", …)`. */
export type Api = Client<paths>;

/**
 * A typed HTTP client of the gateway (openapi-fetch over the generated `paths`), which adds
 * `Authorization: Bearer <token>` to each request and reports a rejected token.
 */
export function createApi(opts: ApiOptions): Api {
  const api = createClient<paths>({ baseUrl: opts.baseUrl, ...(opts.fetch ? { fetch: opts.fetch } : {}) });
  const auth: Middleware = {
    onRequest({ request }) {
      const token = opts.token?.();
      if (token) request.headers.set("Authorization", `Bearer ${token}`);
      return request;
    },
    onResponse({ request, response }) {
      if (response.status === 401 && request.headers.has("Authorization")) opts.onUnauthorized?.();
      return response;
    },
  };
  api.use(auth);
  return api;
}
