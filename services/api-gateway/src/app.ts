import websocket from "@fastify/websocket";
import Fastify, { type FastifyInstance, LogController } from "fastify";
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import { authenticate } from "./auth/authenticate.ts";
import { clientErrorHandler } from "./client-errors.ts";
import type { App, GatewayDeps, RouteContext } from "./deps.ts";
import { registerErrorHandling } from "./errors.ts";
import { registerOpenApi } from "./openapi.ts";
import { authRoutes } from "./routes/auth.routes.ts";
import { groupRoutes } from "./routes/group.routes.ts";
import { healthRoutes } from "./routes/health.routes.ts";
import { memberRoutes } from "./routes/member.routes.ts";
import { messageRoutes } from "./routes/message.routes.ts";
import { metricsRoutes, observeRequest } from "./routes/metrics.routes.ts";
import { participantRoutes } from "./routes/participant.routes.ts";
import { systemRoutes } from "./routes/system.routes.ts";
import { turnRoutes } from "./routes/turn.routes.ts";
import { registerSecurity, requestId } from "./security.ts";
import { registerWebApp } from "./web.ts";
import { registerWebSocket, websocketPluginOptions } from "./ws/index.ts";

export type { App, GatewayDeps } from "./deps.ts";

/** Every route module, in registration order. */
const ROUTES = [
  healthRoutes,
  authRoutes,
  groupRoutes,
  memberRoutes,
  participantRoutes,
  messageRoutes,
  turnRoutes,
  systemRoutes,
  metricsRoutes,
];

/**
 * Builds the gateway: the HTTP routes with zod validation, the error handler, security
 * headers, CORS, OpenAPI + docs, and the WebSocket. Connects to nothing itself: every connection
 * comes in `deps`. Closing the app closes the WebSocket part too (not the pool, Redis connections
 * or queue it was given).
 */
export async function buildApp(deps: GatewayDeps): Promise<App> {
  const { config } = deps;
  const app = Fastify({
    loggerInstance: deps.logger,
    // one access line per request is written by security.ts, without query strings
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.BODY_LIMIT_BYTES,
    genReqId: requestId,
    requestIdHeader: false,
    // a hop count is supported at run time though the type omits it
    trustProxy: config.TRUST_PROXY as boolean | string,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    clientErrorHandler,
  }).withTypeProvider<ZodTypeProvider>() as unknown as App;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest("userId", "");
  registerErrorHandling(app);
  app.addHook("onResponse", observeRequest);
  await registerSecurity(app, config);
  await registerOpenApi(app);

  const ctx: RouteContext = { ...deps, authenticate: authenticate(config) };
  for (const routes of ROUTES) await app.register(routes, { ctx });

  // the WebSocket closes its sockets with 1001 first, then the ws server goes (default cleanup)
  let closeWs: () => Promise<void> = async () => undefined;
  await app.register(websocket, {
    ...websocketPluginOptions(deps.logger),
    preClose: async () => {
      await closeWs();
      for (const client of app.websocketServer.clients) client.terminate();
      app.websocketServer.close();
    },
  });
  closeWs = await registerWebSocket(app as unknown as FastifyInstance, {
    config,
    pool: deps.pool,
    redis: deps.redis,
    subscriber: deps.subscriber,
    logger: deps.logger,
  });
  if (deps.webRoot !== null) await registerWebApp(app as unknown as FastifyInstance, deps.webRoot);
  return app;
}
