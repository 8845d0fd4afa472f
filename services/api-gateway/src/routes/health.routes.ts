import { countLive } from "@synapse/shared";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { RouteContext } from "../deps.ts";
import { noQuery } from "../schemas.ts";

const state = z.enum(["ok", "unavailable"]);
const readySchema = z
  .object({
    status: state,
    postgres: state,
    redis: state,
    orchestrators: z.number().int().nullable().describe("Orchestrator processes seen in the last 10 s"),
    workers: z.number().int().nullable().describe("Execution workers seen in the last 10 s"),
  })
  .meta({ id: "Readiness" });

const TIMEOUT_MS = 2_000;

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timeout")), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** GET /health (the process is up), GET /ready (PostgreSQL and Redis answer). No auth. */
export const healthRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext }> = async (app, { ctx }) => {
  const { pool, redis, config } = ctx;

  app.get(
    "/health",
    {
      schema: {
        tags: ["system"],
        summary: "Liveness",
        querystring: noQuery,
        response: { 200: z.object({ status: z.literal("ok") }) },
      },
    },
    async () => ({ status: "ok" as const }),
  );

  app.get(
    "/ready",
    {
      schema: {
        tags: ["system"],
        summary: "Readiness: 503 naming PostgreSQL or Redis when one does not answer",
        querystring: noQuery,
        response: { 200: readySchema, 503: readySchema },
      },
    },
    async (_req, reply) => {
      const [pgOk, procs] = await Promise.allSettled([
        within(pool.query("select 1"), TIMEOUT_MS),
        within(
          Promise.all([
            countLive(redis, config.QUEUE_PREFIX, "orchestrator"),
            countLive(redis, config.QUEUE_PREFIX, "worker"),
          ]),
          TIMEOUT_MS,
        ),
      ]);
      const postgres = pgOk.status === "fulfilled" ? "ok" : "unavailable";
      const redisState = procs.status === "fulfilled" ? "ok" : "unavailable";
      const ok = postgres === "ok" && redisState === "ok";
      return reply.code(ok ? 200 : 503).send({
        status: ok ? "ok" : "unavailable",
        postgres,
        redis: redisState,
        orchestrators: procs.status === "fulfilled" ? procs.value[0] : null,
        workers: procs.status === "fulfilled" ? procs.value[1] : null,
      });
    },
  );
};
