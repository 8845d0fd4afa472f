import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyPluginAsync } from "fastify";

/**
 * Where `npm start` or `npm run build` puts the browser client: found through its package, not this
 * file's path, so that the bundled gateway finds it too (undefined when the package is not there).
 */
export const WEB_DIST = webDist();

function webDist(): string | undefined {
  try {
    return path.join(
      path.dirname(createRequire(import.meta.url).resolve("@synapse/web/package.json")),
      "dist",
    );
  } catch {
    return undefined;
  }
}

/** The client's own scripts and styles, the API and its socket on this origin; nothing else. */
const APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join("; ");

/** The client's files under its prefix; any other path under it gets index.html. */
const webScope: FastifyPluginAsync<{ root: string }> = async (scope, { root }) => {
  scope.addHook("onRequest", async (_req, reply) => {
    void reply.header("content-security-policy", APP_CSP);
  });
  await scope.register(fastifyStatic, {
    root,
    prefix: "/",
    index: ["index.html"],
    cacheControl: false,
    setHeaders(reply, file) {
      // file names under assets/ carry their content hash; index.html must be revalidated
      void reply.header(
        "cache-control",
        file.includes(`${path.sep}assets${path.sep}`) ? "public, max-age=31536000, immutable" : "no-cache",
      );
    },
  });
  scope.setNotFoundHandler((_req, reply) =>
    reply.header("cache-control", "no-cache").type("text/html").sendFile("index.html"),
  );
};

/**
 * Serves the browser client under `/app/` (unknown `/app/*` paths get its index.html, for the
 * client's routes) and redirects `/` there. Without a build it serves nothing and logs why.
 */
export async function registerWebApp(
  app: FastifyInstance,
  root: string | undefined = WEB_DIST,
): Promise<void> {
  if (!root || !existsSync(path.join(root, "index.html"))) {
    app.log.info({ root }, "no web client build: not serving /app/ (npm start builds it)");
    return;
  }
  app.get("/", { schema: { hide: true } }, (_req, reply) => reply.redirect("/app/"));
  await app.register(webScope, { prefix: "/app", root });
}
