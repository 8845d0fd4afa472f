import formbody from "@fastify/formbody";
import { ConflictError, pgCode, UnauthorizedError, ValidationError } from "@synapse/shared";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { hashPassword, verifyPassword } from "../auth/password.ts";
import { issueAccessToken } from "../auth/tokens.ts";
import type { RouteContext } from "../deps.ts";
import { registerRateLimit } from "../rate-limit.ts";
import { authErrorResponses, email, errorResponses, id, noQuery, secured, text } from "../schemas.ts";

const password = text().min(8).max(1024);

const userSchema = z.object({ id: id(), email: z.string() }).meta({ id: "User" });
const tokenSchema = z
  .object({
    access_token: z.string(),
    token_type: z.literal("bearer"),
    expires_in: z.number().int().describe("Seconds until the token expires"),
  })
  .meta({ id: "AccessToken" });

// a malformed email is 422 (no user can have it); a well-formed unknown one is the usual 401
const loginJson = z.strictObject({
  email: email(),
  password: text().min(1).max(1024),
});
/** The OAuth2 password-flow form (what Swagger UI's Authorize dialog and OAuth2 clients send). */
const loginForm = z.strictObject({
  username: email().describe("The email"),
  password: text().min(1).max(1024),
  grant_type: z.literal("password").optional(),
  scope: text().max(1000).optional(),
  client_id: text().max(1000).optional(),
  client_secret: text().max(1000).optional(),
});

/** POST /auth/register, POST /auth/login (form or JSON), GET /auth/me. */
export const authRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext }> = async (app, { ctx }) => {
  const { pool, config } = ctx;
  // per IP: these routes are called before there is a user
  const limitAuth = await registerRateLimit(app, {
    redis: ctx.redis,
    prefix: config.QUEUE_PREFIX,
    name: "auth",
    perMinute: config.RATE_LIMIT_AUTH_PER_MINUTE,
    subject: (req) => req.ip,
  });
  // form bodies are accepted on these routes only (OAuth2 password flow)
  await app.register(formbody, { bodyLimit: 16_384 });

  app.post(
    "/auth/register",
    {
      schema: {
        tags: ["auth"],
        summary: "Create an account",
        querystring: noQuery,
        body: z.strictObject({
          email: email().describe("Stored as given; unique ignoring case"),
          password,
        }),
        response: { 201: userSchema, ...errorResponses(409, 429) },
      },
    },
    async (req, reply) => {
      await limitAuth(req);
      const hash = await hashPassword(req.body.password);
      try {
        const { rows } = await pool.query<{ id: string; email: string }>(
          "insert into users (email, password_hash) values ($1, $2) returning id, email",
          [req.body.email, hash],
        );
        return reply.code(201).send(rows[0]!);
      } catch (err) {
        if (pgCode(err) === "23505")
          throw new ConflictError("email_taken", "this email is already registered");
        throw err;
      }
    },
  );

  app.post(
    "/auth/login",
    {
      schema: {
        tags: ["auth"],
        summary: "Get an access token",
        description:
          "OAuth2 password flow (form: username = the email, password) or JSON {email, password}. " +
          "The same 401 for an unknown email and a wrong password.",
        querystring: noQuery,
        body: {
          content: {
            "application/json": { schema: loginJson },
            "application/x-www-form-urlencoded": { schema: loginForm },
          },
        },
        response: { 200: tokenSchema, ...errorResponses(401, 415, 429) },
      },
    },
    async (req) => {
      await limitAuth(req);
      const body = req.body as z.output<typeof loginJson> | z.output<typeof loginForm> | undefined;
      if (!body || typeof body !== "object")
        throw new ValidationError("body: email and password are required");
      const login = "username" in body ? body.username : body.email;
      const { rows } = await pool.query<{ id: string; password_hash: string }>(
        "select id, password_hash from users where lower(email) = lower($1)",
        [login],
      );
      const user = rows[0];
      if (!(await verifyPassword(user?.password_hash, body.password)) || !user)
        throw new UnauthorizedError("incorrect email or password");
      return issueAccessToken(config, user.id);
    },
  );

  app.get(
    "/auth/me",
    {
      onRequest: ctx.authenticate,
      schema: {
        tags: ["auth"],
        summary: "The authenticated user",
        security: secured,
        querystring: noQuery,
        response: { 200: userSchema, ...authErrorResponses() },
      },
    },
    async (req) => {
      const { rows } = await pool.query<{ id: string; email: string }>(
        "select id, email from users where id = $1",
        [req.userId],
      );
      if (!rows[0]) throw new UnauthorizedError("the user of this token no longer exists");
      return rows[0];
    },
  );
};
