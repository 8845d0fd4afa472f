import {
  announceCancel,
  ConflictError,
  markTurnEnded,
  NotFoundError,
  readTurn,
  readTurnView,
  type TurnView,
  withGroupLock,
} from "@synapse/shared";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { requireRole } from "../access.ts";
import type { RouteContext } from "../deps.ts";
import { authErrorResponses, id, noQuery, secured } from "../schemas.ts";

const turnParams = z.strictObject({ id: id().describe("Group id"), turn_id: id().describe("Turn id") });

const counts = { input_tokens: z.number().int(), output_tokens: z.number().int() };
const turnSchema = z
  .object({
    id: id(),
    status: z.enum(["queued", "running", "ended"]),
    reason: z
      .enum(["completed", "awaiting_user", "max_steps", "cancelled", "error"])
      .nullable()
      .describe("Why the turn ended; null until it has"),
    steps: z.number().int().describe("LLM and tool calls dispatched so far"),
    message_id: id().describe("The message that began the turn"),
    started_at: z.string().nullable(),
    ended_at: z.string().nullable(),
    cancelled_by: id().nullable().describe("With reason `cancelled`: the user who cancelled the turn"),
    usage: z.object({
      ...counts,
      by_agent: z.record(z.string(), z.object({ ...counts, calls: z.number().int() })),
    }),
  })
  .meta({ id: "Turn" });

const cancelSchema = z
  .object({ id: id(), status: z.literal("ended"), reason: z.literal("cancelled") })
  .meta({ id: "TurnCancelled" });

type Usage = z.output<typeof turnSchema>["usage"];

function toTurn(r: TurnView): z.output<typeof turnSchema> {
  const usage = r.usage ?? {};
  return {
    id: r.id,
    status: r.status,
    reason: r.status === "ended" ? r.reason : null,
    steps: r.steps,
    message_id: r.message_id,
    started_at: r.started_at?.toISOString() ?? null,
    ended_at: r.ended_at?.toISOString() ?? null,
    cancelled_by: r.cancelled_by,
    usage: {
      input_tokens: usage.input_tokens ?? 0,
      output_tokens: usage.output_tokens ?? 0,
      by_agent: (usage.by_agent ?? {}) as Usage["by_agent"],
    },
  };
}

/** Turns: status, and cancel. */
export const turnRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext }> = async (app, { ctx }) => {
  const { pool, redis, config, logger, orchestratorQueue } = ctx;
  const prefix = config.QUEUE_PREFIX;
  app.addHook("onRequest", ctx.authenticate);

  app.get(
    "/groups/:id/turns/:turn_id",
    {
      schema: {
        tags: ["turns"],
        summary: "A turn's status, steps and token usage",
        security: secured,
        params: turnParams,
        querystring: noQuery,
        response: { 200: turnSchema, ...authErrorResponses(404) },
      },
    },
    async (req) => {
      await requireRole(pool, req.params.id, req.userId);
      const turn = await readTurnView(pool, req.params.id, req.params.turn_id);
      if (!turn) throw new NotFoundError("turn");
      return toTurn(turn);
    },
  );

  app.post(
    "/groups/:id/turns/:turn_id/cancel",
    {
      schema: {
        tags: ["turns"],
        summary: "Cancel a queued or running turn",
        description:
          "The turn ends with reason `cancelled`; in-flight LLM and tool calls are aborted and nothing " +
          "of the turn but its `turn.ended` is published after. Cancelling a cancelled turn again is a " +
          "no-op (202); a turn that ended otherwise is 409 turn_ended. Any participant may cancel.",
        security: secured,
        params: turnParams,
        querystring: noQuery,
        response: { 202: cancelSchema, ...authErrorResponses(404, 409) },
      },
    },
    async (req, reply) => {
      const { id: groupId, turn_id: turnId } = req.params;
      await requireRole(pool, groupId, req.userId);
      const ended = await withGroupLock(pool, groupId, async (client) => {
        const turn = await readTurn(client, groupId, turnId);
        if (!turn) throw new NotFoundError("turn");
        if (turn.status === "ended") {
          if (turn.reason === "cancelled") return false;
          throw new ConflictError("turn_ended", `the turn has already ended (${turn.reason})`);
        }
        // the frame goes out after the commit
        await markTurnEnded(client, turnId, "cancelled", req.userId);
        return true;
      });
      if (ended) {
        try {
          // turn.ended first, in the same transaction: after `_turn.cancelled` gateways forward
          // nothing more of the turn
          await announceCancel(redis, prefix, groupId, turnId, { ended: true, by: req.userId });
          await orchestratorQueue.add("advance", { group_id: groupId });
        } catch (err) {
          logger.error(
            { err, group_id: groupId, turn_id: turnId },
            "turn cancelled but announcing it failed",
          );
        }
      }
      return reply.code(202).send({ id: turnId, status: "ended" as const, reason: "cancelled" as const });
    },
  );
};
