import { ConflictError, NotFoundError, pgCode, publishFrame } from "@synapse/shared";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { requireRole, roleOf } from "../access.ts";
import type { RouteContext } from "../deps.ts";
import { BadRequestError } from "../errors.ts";
import {
  authErrorResponses,
  email,
  groupParams,
  id,
  noQuery,
  participantSchema,
  secured,
} from "../schemas.ts";

const participantParams = z.strictObject({
  id: id().describe("Group id"),
  user_id: id().describe("User id"),
});

/** People of a group: the owner adds and removes them; a participant may remove themself (leave). */
export const participantRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext }> = async (app, { ctx }) => {
  const { pool, redis, config, logger } = ctx;
  app.addHook("onRequest", ctx.authenticate);

  app.post(
    "/groups/:id/participants",
    {
      schema: {
        tags: ["participants"],
        summary: "Add a registered user to the group (owner only)",
        security: secured,
        params: groupParams,
        querystring: noQuery,
        // malformed → 422 before the owner check and the look-up
        body: z.strictObject({ email: email() }),
        response: { 201: participantSchema, ...authErrorResponses(403, 404, 409) },
      },
    },
    async (req, reply) => {
      const groupId = req.params.id;
      await requireRole(pool, groupId, req.userId, "owner");
      const user = await pool.query<{ id: string; email: string }>(
        "select id, email from users where lower(email) = lower($1)",
        [req.body.email],
      );
      const found = user.rows[0];
      if (!found) throw new NotFoundError("user");
      const added = await pool
        .query(
          `insert into group_participants (group_id, user_id, role) values ($1, $2, 'member')
           on conflict (group_id, user_id) do nothing`,
          [groupId, found.id],
        )
        .catch((err: unknown) => {
          // the group was deleted meanwhile
          throw pgCode(err) === "23503" ? new NotFoundError("group") : err;
        });
      if (added.rowCount === 0)
        throw new ConflictError("already_participant", "this user is already in the group");
      return reply.code(201).send({ user_id: found.id, email: found.email, role: "member" as const });
    },
  );

  app.delete(
    "/groups/:id/participants/:user_id",
    {
      schema: {
        tags: ["participants"],
        summary: "Remove a participant (owner only), or leave the group (yourself)",
        description: "The owner cannot be removed (400 owner_protected).",
        security: secured,
        params: participantParams,
        querystring: noQuery,
        response: { 204: z.undefined().describe("Removed"), ...authErrorResponses(400, 403, 404) },
      },
    },
    async (req, reply) => {
      const { id: groupId, user_id: userId } = req.params;
      const me = await requireRole(pool, groupId, req.userId, "owner", { ownerOrSelf: userId });
      const target = userId === req.userId ? me.role : await roleOf(pool, groupId, userId);
      if (!target) throw new NotFoundError("participant");
      if (target === "owner")
        throw new BadRequestError("owner_protected", "the group owner cannot be removed");
      await pool.query(
        "delete from group_participants where group_id = $1 and user_id = $2 and role <> 'owner'",
        [groupId, userId],
      );
      // after commit: gateways close the removed user's sockets of this group
      await publishFrame(redis, config.QUEUE_PREFIX, groupId, {
        type: "_participant.removed",
        group_id: groupId,
        user_id: userId,
      }).catch((err: unknown) => logger.warn({ err, group_id: groupId }, "announcing a removal failed"));
      return reply.code(204).send();
    },
  );
};
