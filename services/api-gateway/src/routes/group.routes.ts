import {
  announceCancel,
  defaultOrchestrator,
  deleteGraphState,
  groupTurns,
  NotFoundError,
  publishFrame,
  withGroupLock,
  withTransaction,
} from "@synapse/shared";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { requireRole } from "../access.ts";
import { agentCreateSchema, ORCHESTRATOR_ALIAS } from "../agent.schemas.ts";
import type { RouteContext } from "../deps.ts";
import { insertAgent, loadGroup, loadGroups } from "../group.repo.ts";
import { authErrorResponses, groupDetailSchema, groupParams, noQuery, secured, text } from "../schemas.ts";

const name = text().trim().min(1).max(200);

/** /groups: create, list, read, rename, delete. */
export const groupRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext }> = async (app, { ctx }) => {
  const { pool, redis, config, logger } = ctx;
  const prefix = config.QUEUE_PREFIX;
  app.addHook("onRequest", ctx.authenticate);

  app.post(
    "/groups",
    {
      schema: {
        tags: ["groups"],
        summary: "Create a group (with its Orchestrator and the given agents)",
        security: secured,
        querystring: noQuery,
        body: z.strictObject({ name, members: z.array(agentCreateSchema(config)).max(50).optional() }),
        response: { 201: groupDetailSchema, ...authErrorResponses(409) },
      },
    },
    async (req, reply) => {
      const orchestrator = defaultOrchestrator(config);
      const groupId = await withTransaction(pool, async (client) => {
        const { rows } = await client.query<{ id: string }>(
          "insert into groups (name, owner_id) values ($1, $2) returning id",
          [req.body.name, req.userId],
        );
        const id = rows[0]!.id;
        await client.query(
          "insert into group_participants (group_id, user_id, role) values ($1, $2, 'owner')",
          [id, req.userId],
        );
        await insertAgent(
          client,
          id,
          { alias: ORCHESTRATOR_ALIAS, role_prompt: "", temperature: 0.7, tools: [], ...orchestrator },
          true,
        );
        for (const member of req.body.members ?? []) await insertAgent(client, id, member);
        return id;
      });
      return reply.code(201).send(await loadGroup(pool, groupId));
    },
  );

  app.get(
    "/groups",
    {
      schema: {
        tags: ["groups"],
        summary: "Groups the caller belongs to, newest first (same shape as GET /groups/{id})",
        security: secured,
        querystring: noQuery,
        response: { 200: z.array(groupDetailSchema), ...authErrorResponses() },
      },
    },
    async (req) => {
      const { rows } = await pool.query<{ id: string }>(
        `select g.id from groups g join group_participants gp on gp.group_id = g.id and gp.user_id = $1
          order by g.created_at desc, g.id desc`,
        [req.userId],
      );
      return loadGroups(
        pool,
        rows.map((r) => r.id),
      );
    },
  );

  app.get(
    "/groups/:id",
    {
      schema: {
        tags: ["groups"],
        summary: "A group with its agents and participants",
        security: secured,
        params: groupParams,
        querystring: noQuery,
        response: { 200: groupDetailSchema, ...authErrorResponses(404) },
      },
    },
    async (req) => {
      await requireRole(pool, req.params.id, req.userId);
      return loadGroup(pool, req.params.id);
    },
  );

  app.put(
    "/groups/:id",
    {
      schema: {
        tags: ["groups"],
        summary: "Rename a group (owner only)",
        security: secured,
        params: groupParams,
        querystring: noQuery,
        body: z.strictObject({ name }),
        response: { 200: groupDetailSchema, ...authErrorResponses(403, 404) },
      },
    },
    async (req) => {
      await requireRole(pool, req.params.id, req.userId, "owner");
      await pool.query("update groups set name = $2, updated_at = now() where id = $1", [
        req.params.id,
        req.body.name,
      ]);
      return loadGroup(pool, req.params.id);
    },
  );

  app.delete(
    "/groups/:id",
    {
      schema: {
        tags: ["groups"],
        summary: "Delete a group with its agents, messages, turns and graph state (owner only)",
        security: secured,
        params: groupParams,
        querystring: noQuery,
        response: { 204: z.undefined().describe("Deleted"), ...authErrorResponses(403, 404) },
      },
    },
    async (req, reply) => {
      const groupId = req.params.id;
      await requireRole(pool, groupId, req.userId, "owner");
      // under the group lock, so no turn starts or steps while the group goes away
      const running = await withGroupLock(pool, groupId, async (client) => {
        const turns = await groupTurns(client, groupId);
        await deleteGraphState(
          client,
          turns.map((t) => t.id),
        );
        const deleted = await client.query("delete from groups where id = $1", [groupId]);
        if (deleted.rowCount === 0) throw new NotFoundError("group");
        return turns.filter((t) => t.status === "running").map((t) => t.id);
      });
      // after commit: workers abort in-flight calls, gateways close the group's sockets
      try {
        for (const turnId of running) await announceCancel(redis, prefix, groupId, turnId);
        await publishFrame(redis, prefix, groupId, { type: "_group.deleted", group_id: groupId });
      } catch (err) {
        logger.warn({ err, group_id: groupId }, "group deleted but announcing it failed");
      }
      return reply.code(204).send();
    },
  );
};
