import {
  ConflictError,
  MESSAGE_COLUMNS,
  type Message,
  type MessageRow,
  pgCode,
  publishFrame,
  storeUserMessage,
  toMessage,
} from "@synapse/shared";
import { inSpan, SpanKind, traceCarrier } from "@synapse/shared/telemetry/tracing";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { requireRole } from "../access.ts";
import type { RouteContext } from "../deps.ts";
import { registerRateLimit } from "../rate-limit.ts";
import {
  authErrorResponses,
  decimalInt,
  groupParams,
  messageSchema,
  noQuery,
  secured,
  text,
} from "../schemas.ts";

const seq = () => decimalInt(0, Number.MAX_SAFE_INTEGER);

const pageQuery = z.strictObject({
  limit: decimalInt(1, 200).default(50),
  before: seq().optional().describe("Only messages with a smaller seq (the newest `limit` of them)"),
  after: seq().optional().describe("Only messages with a greater seq (the oldest `limit` of them)"),
  before_timestamp: z
    .union([z.iso.datetime({ offset: true, local: true }), z.iso.date()])
    .optional()
    .describe("Only messages created strictly before this instant"),
});

const postHeaders = z.looseObject({
  "idempotency-key": text()
    .min(1)
    .max(200)
    .optional()
    .describe("Makes a retry safe: the same key from the same user returns the first message"),
});

/** Messages of a group: post one (it begins a turn), read a page. */
export const messageRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext }> = async (app, { ctx }) => {
  const { pool, redis, config, logger, orchestratorQueue } = ctx;
  app.addHook("onRequest", ctx.authenticate);
  const limitPosts = await registerRateLimit(app, {
    redis,
    prefix: config.QUEUE_PREFIX,
    name: "messages",
    perMinute: config.RATE_LIMIT_MESSAGES_PER_MINUTE,
    subject: (req) => req.userId,
  });

  async function byIdempotencyKey(userId: string, key: string): Promise<Message | undefined> {
    const { rows } = await pool.query<MessageRow>(
      `select ${MESSAGE_COLUMNS} from messages where sender_user_id = $1 and idempotency_key = $2`,
      [userId, key],
    );
    return rows[0] && toMessage(rows[0]);
  }

  function replay(message: Message, groupId: string): Message {
    if (message.group_id !== groupId)
      throw new ConflictError("idempotency_key_reused", "this Idempotency-Key was used for another group");
    return message;
  }

  app.post(
    "/groups/:id/messages",
    {
      schema: {
        tags: ["messages"],
        summary: "Post a message; it begins a turn (now, or after the running one)",
        description:
          "The message is stored and published before the answer; its `turn_id` is the turn it began. " +
          "Rate-limited per user (429 with Retry-After).",
        security: secured,
        params: groupParams,
        querystring: noQuery,
        headers: postHeaders,
        body: z.strictObject({ content: text().min(1).max(10_000) }),
        response: { 202: messageSchema, ...authErrorResponses(404, 409, 429) },
      },
    },
    async (req, reply) =>
      // the turn keeps this span's context (turns.trace): every step and call of it joins this trace
      inSpan(
        "POST /groups/{id}/messages",
        {
          kind: SpanKind.SERVER,
          attributes: {
            "http.request.method": "POST",
            "http.route": "/groups/{id}/messages",
            "synapse.group_id": req.params.id,
          },
        },
        async (span) => {
          const groupId = req.params.id;
          const userId = req.userId;
          const { email } = await requireRole(pool, groupId, userId);
          await limitPosts(req);

          const key = req.headers["idempotency-key"];
          if (key !== undefined) {
            const first = await byIdempotencyKey(userId, key);
            if (first) return reply.code(202).send(replay(first, groupId));
          }

          let message: Message;
          try {
            message = await storeUserMessage(pool, {
              group_id: groupId,
              user_id: userId,
              sender_alias: email,
              content: req.body.content,
              idempotency_key: key ?? null,
              trace: traceCarrier(),
            });
          } catch (err) {
            // two posts with one key raced: the loser answers with the winner's message
            if (key !== undefined && pgCode(err) === "23505") {
              const first = await byIdempotencyKey(userId, key);
              if (first) return reply.code(202).send(replay(first, groupId));
            }
            // a group deleted while this post waited for its row: storeUserMessage finds no group row to
            // take a seq from and throws NotFoundError (not checked up front: a share lock on the group
            // row would make every post contend)
            throw err;
          }

          // after commit. The message is stored: a failure here must not turn into an error the client
          // would retry (the orchestrator's sweep starts queued turns; a WebSocket `after` read recovers it)
          try {
            await publishFrame(redis, config.QUEUE_PREFIX, groupId, { type: "message", message });
          } catch (err) {
            logger.warn({ err, group_id: groupId, message_id: message.id }, "publishing a message failed");
          }
          try {
            await orchestratorQueue.add("advance", { group_id: groupId });
          } catch (err) {
            logger.warn({ err, group_id: groupId, turn_id: message.turn_id }, "enqueuing a turn failed");
          }
          span.setAttributes({
            "synapse.turn_id": message.turn_id ?? undefined,
            "http.response.status_code": 202,
          });
          return reply.code(202).send(message);
        },
      ),
  );

  app.get(
    "/groups/:id/messages",
    {
      schema: {
        tags: ["messages"],
        summary: "A page of messages, oldest first",
        description:
          "Without a cursor, or with `before`, the newest `limit` messages before that point; with " +
          "`after`, the oldest `limit` messages after it. Cursors can be combined (a window).",
        security: secured,
        params: groupParams,
        querystring: pageQuery,
        response: { 200: z.array(messageSchema), ...authErrorResponses(404) },
      },
    },
    async (req) => {
      const groupId = req.params.id;
      const q = req.query;
      await requireRole(pool, groupId, req.userId);
      const where = ["group_id = $1"];
      const args: unknown[] = [groupId];
      const add = (sql: string, value: unknown) => {
        args.push(value);
        where.push(sql.replace("?", `$${args.length}`));
      };
      if (q.before !== undefined) add("seq < ?", q.before);
      if (q.after !== undefined) add("seq > ?", q.after);
      if (q.before_timestamp !== undefined) add("created_at < ?", q.before_timestamp);
      args.push(q.limit);
      // newest-first for `before`/no cursor, then reversed: the page is always oldest first
      const order = q.after !== undefined ? "asc" : "desc";
      const { rows } = await pool.query<MessageRow>(
        `select ${MESSAGE_COLUMNS} from messages where ${where.join(" and ")}
          order by seq ${order} limit $${args.length}`,
        args,
      );
      const page = rows.map(toMessage);
      return order === "desc" ? page.reverse() : page;
    },
  );
};
