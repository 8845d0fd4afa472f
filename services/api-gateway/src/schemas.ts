import { parseDecimalInt } from "@synapse/shared";
import { z } from "zod";

/**
 * Schemas shared by several routes. Each one validates requests (or documents responses) and feeds
 * the OpenAPI document; registering an `id` makes it a named component there.
 */

/** Any 8-4-4-4-12 hex id (what PostgreSQL accepts); anything else is a malformed id → 422. */
export const id = () => z.guid({ error: "must be a UUID" });

/**
 * Every text field of a request: a string PostgreSQL can store in `text` and in `jsonb` alike, and
 * a turn can carry through its steps. NUL characters and lone surrogates (half of a character
 * outside the BMP, e.g. "\ud800" in JSON) are refused with 422 naming the field, not stored.
 */
const noNul = (s: string) => !s.includes("\0");
export const text = () =>
  z
    .string()
    .refine(noNul, "must not contain NUL characters")
    .refine((s) => s.isWellFormed(), "must be well-formed Unicode (no lone surrogates)");

/** An email address (its ASCII pattern also rules out NUL and lone surrogates). */
export const email = () => z.email({ error: "must be an email address" }).max(254);

/**
 * An integer of a query string or a path: decimal digits only (no sign, space, fraction, exponent,
 * or 0x/0b prefix), within `[min, max]`, documented as such.
 */
export const decimalInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a decimal integer (digits only)")
    .transform((s, ctx) => {
      const n = parseDecimalInt(s, min, max);
      if (n !== undefined) return n;
      ctx.addIssue({ code: "custom", message: `must be from ${min} to ${max}` });
      return z.NEVER;
    })
    .meta({ type: "integer", minimum: min, maximum: max });

export const errorSchema = z
  .object({
    detail: z.string().describe("What went wrong, for a person"),
    code: z.string().describe("Stable machine-readable code, e.g. not_found, validation_error"),
  })
  .meta({ id: "Error" });

/** Security requirement of authenticated routes: a bearer token (from either scheme). */
export const secured: { [scheme: string]: string[] }[] = [{ bearer: [] }, { oauth2: [] }];

/** Routes without a query string still reject unknown query parameters. */
export const noQuery = z.strictObject({});

export const groupParams = z.strictObject({ id: id().describe("Group id") });

const timestamp = () => z.string().describe("ISO 8601 timestamp");

export const toolCallSchema = z
  .object({ id: z.string(), name: z.string(), args: z.record(z.string(), z.unknown()) })
  .meta({ id: "ToolCall" });

export const messageSchema = z
  .object({
    id: id(),
    group_id: id(),
    seq: z.number().int().describe("Order of record within the group, from 1, strictly increasing"),
    turn_id: id().nullable(),
    sender_type: z.enum(["user", "agent", "tool", "system"]),
    sender_alias: z.string(),
    sender_user_id: id().nullable(),
    content: z.string(),
    tool_calls: z.array(toolCallSchema).nullable(),
    tool_call_id: z.string().nullable(),
    created_at: timestamp(),
    meta: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: "Message" });

export const memberSchema = z
  .object({
    id: id(),
    group_id: id(),
    alias: z.string(),
    role_prompt: z.string(),
    provider: z.string(),
    model: z.string(),
    temperature: z.number(),
    tools: z.array(z.string()),
    is_orchestrator: z.boolean(),
  })
  .meta({ id: "Member" });

export const participantSchema = z
  .object({ user_id: id(), email: z.string(), role: z.enum(["owner", "member"]) })
  .meta({ id: "Participant" });

export const groupDetailSchema = z
  .object({
    id: id(),
    name: z.string(),
    owner_id: id(),
    created_at: timestamp(),
    updated_at: timestamp(),
    members: z.array(memberSchema).describe("Agents; the Orchestrator first"),
    participants: z.array(participantSchema),
  })
  .meta({ id: "GroupDetail" });

export type MemberOut = z.output<typeof memberSchema>;
export type ParticipantOut = z.output<typeof participantSchema>;
export type GroupDetailOut = z.output<typeof groupDetailSchema>;

/** Error responses by status, for the OpenAPI document (the handler in errors.ts produces them). */
const described = (description: string) => ({
  description,
  content: { "application/json": { schema: errorSchema } },
});
export const errors = {
  400: described("Not allowed on this resource (e.g. orchestrator_protected, owner_protected)"),
  401: described("Missing, malformed or expired token (WWW-Authenticate: Bearer)"),
  403: described("Only the group owner can do this"),
  404: described("Not found, or not visible to the caller"),
  409: described("Conflicts with existing data"),
  413: described("Request body too large"),
  415: described("Unsupported content type"),
  422: described("A body, query or path value failed validation; detail names it"),
  429: described("Rate limited; see Retry-After"),
  500: described("Unexpected error; detail carries the request id"),
} as const;

type Status = keyof typeof errors;
type ErrorResponse = ReturnType<typeof described>;

/** The documented error responses of a route: every route can fail with 422 and 500. */
export function errorResponses<S extends Status>(...statuses: S[]): Record<S | 422 | 500, ErrorResponse> {
  const out = {} as Record<S | 422 | 500, ErrorResponse>;
  for (const s of [...statuses, 422 as const, 500 as const]) out[s] = errors[s];
  return out;
}

/** Error responses of an authenticated route (401 always possible). */
export function authErrorResponses<S extends Status>(...statuses: S[]) {
  return errorResponses<S | 401>(401, ...statuses);
}
