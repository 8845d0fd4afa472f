import { AGENT_COLUMNS, type AgentRow, NotFoundError } from "@synapse/shared";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { requireRole } from "../access.ts";
import { agentCreateSchema, agentUpdateSchema } from "../agent.schemas.ts";
import type { RouteContext } from "../deps.ts";
import { BadRequestError } from "../errors.ts";
import { aliasConflict, insertAgent, toMember } from "../group.repo.ts";
import { authErrorResponses, groupParams, id, memberSchema, noQuery, secured } from "../schemas.ts";

const memberParams = z.strictObject({ id: id().describe("Group id"), member_id: id().describe("Agent id") });

/** Agents of a group: add, edit (partial), remove. Owner only. */
export const memberRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext }> = async (app, { ctx }) => {
  const { pool, config } = ctx;
  app.addHook("onRequest", ctx.authenticate);

  async function loadAgent(groupId: string, memberId: string): Promise<AgentRow> {
    const { rows } = await pool.query<AgentRow>(
      `select ${AGENT_COLUMNS} from agents where id = $1 and group_id = $2`,
      [memberId, groupId],
    );
    if (!rows[0]) throw new NotFoundError("member");
    return rows[0];
  }

  app.post(
    "/groups/:id/members",
    {
      schema: {
        tags: ["agents"],
        summary: "Add an agent (owner only)",
        security: secured,
        params: groupParams,
        querystring: noQuery,
        body: agentCreateSchema(config),
        response: { 201: memberSchema, ...authErrorResponses(403, 404, 409) },
      },
    },
    async (req, reply) => {
      await requireRole(pool, req.params.id, req.userId, "owner");
      return reply.code(201).send(await insertAgent(pool, req.params.id, req.body));
    },
  );

  app.put(
    "/groups/:id/members/:member_id",
    {
      schema: {
        tags: ["agents"],
        summary: "Edit an agent; fields not given are kept (owner only)",
        description:
          "The Orchestrator's provider, model, temperature and role_prompt can be changed; " +
          "renaming it (or changing its tools) is 400 orchestrator_protected.",
        security: secured,
        params: memberParams,
        querystring: noQuery,
        body: agentUpdateSchema(config),
        response: { 200: memberSchema, ...authErrorResponses(400, 403, 404, 409) },
      },
    },
    async (req) => {
      const { id: groupId, member_id: memberId } = req.params;
      await requireRole(pool, groupId, req.userId, "owner");
      const agent = await loadAgent(groupId, memberId);
      const patch = req.body;
      if (agent.is_orchestrator) {
        if (patch.alias !== undefined && patch.alias !== agent.alias)
          throw new BadRequestError("orchestrator_protected", "the Orchestrator cannot be renamed");
        const sameTools =
          patch.tools === undefined ||
          (patch.tools.length === agent.tools.length && patch.tools.every((t) => agent.tools.includes(t)));
        if (!sameTools)
          throw new BadRequestError("orchestrator_protected", "the Orchestrator's tools cannot be changed");
      }
      try {
        const { rows } = await pool.query<AgentRow>(
          `update agents set
             alias = coalesce($3, alias), role_prompt = coalesce($4, role_prompt),
             provider = coalesce($5, provider), model = coalesce($6, model),
             temperature = coalesce($7, temperature), tools = coalesce($8, tools), updated_at = now()
           where id = $1 and group_id = $2 returning ${AGENT_COLUMNS}`,
          [
            memberId,
            groupId,
            patch.alias ?? null,
            patch.role_prompt ?? null,
            patch.provider ?? null,
            patch.model ?? null,
            patch.temperature ?? null,
            patch.tools ?? null,
          ],
        );
        if (!rows[0]) throw new NotFoundError("member");
        return toMember(rows[0]);
      } catch (err) {
        throw aliasConflict(err, patch.alias);
      }
    },
  );

  app.delete(
    "/groups/:id/members/:member_id",
    {
      schema: {
        tags: ["agents"],
        summary: "Remove an agent (owner only; not the Orchestrator)",
        security: secured,
        params: memberParams,
        querystring: noQuery,
        response: { 204: z.undefined().describe("Removed"), ...authErrorResponses(400, 403, 404) },
      },
    },
    async (req, reply) => {
      const { id: groupId, member_id: memberId } = req.params;
      await requireRole(pool, groupId, req.userId, "owner");
      const agent = await loadAgent(groupId, memberId);
      if (agent.is_orchestrator)
        throw new BadRequestError("orchestrator_protected", "the Orchestrator cannot be removed");
      await pool.query("delete from agents where id = $1 and group_id = $2 and not is_orchestrator", [
        memberId,
        groupId,
      ]);
      return reply.code(204).send();
    },
  );
};
