import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestGateway, type TestUser, testGateway } from "../test/helpers.ts";
import { issueAccessToken } from "./auth/tokens.ts";

/**
 * Every authenticated route × {owner, participant, stranger, no token, bad token, expired token}.
 * The routes come from the OpenAPI document (the app's route table): a new group route without an
 * entry in EXPECTED fails this test.
 */
type Role = "owner" | "participant" | "stranger";
const EXPECTED: Record<string, Record<Role, number>> = {
  "GET /groups/{id}": { owner: 200, participant: 200, stranger: 404 },
  "PUT /groups/{id}": { owner: 200, participant: 403, stranger: 404 },
  "DELETE /groups/{id}": { owner: 204, participant: 403, stranger: 404 },
  "POST /groups/{id}/members": { owner: 201, participant: 403, stranger: 404 },
  "PUT /groups/{id}/members/{member_id}": { owner: 200, participant: 403, stranger: 404 },
  "DELETE /groups/{id}/members/{member_id}": { owner: 204, participant: 403, stranger: 404 },
  "POST /groups/{id}/participants": { owner: 201, participant: 403, stranger: 404 },
  "DELETE /groups/{id}/participants/{user_id}": { owner: 204, participant: 403, stranger: 404 },
  "POST /groups/{id}/messages": { owner: 202, participant: 202, stranger: 404 },
  "GET /groups/{id}/messages": { owner: 200, participant: 200, stranger: 404 },
  "GET /groups/{id}/turns/{turn_id}": { owner: 200, participant: 200, stranger: 404 },
  "POST /groups/{id}/turns/{turn_id}/cancel": { owner: 202, participant: 202, stranger: 404 },
};

/** A valid body for each route that takes one (so the caller's role alone decides the status). */
function bodyFor(op: string, newcomer: TestUser): unknown {
  if (op === "PUT /groups/{id}") return { name: "renamed" };
  if (op === "POST /groups/{id}/members") return { alias: "Newbie", provider: "demo", model: "demo" };
  if (op === "PUT /groups/{id}/members/{member_id}") return { model: "other" };
  if (op === "POST /groups/{id}/participants") return { email: newcomer.email };
  if (op === "POST /groups/{id}/messages") return { content: "hello" };
  if (op === "POST /groups") return { name: "g" };
  return undefined;
}

let gw: TestGateway;
let ops: { method: string; path: string; secured: boolean }[];
let owner: TestUser;
let participant: TestUser;
let stranger: TestUser;
let extra: TestUser;
let newcomer: TestUser;
let tokens: Record<"none" | "bad" | "expired" | "foreign", string | undefined>;

beforeAll(async () => {
  gw = await testGateway({ RATE_LIMIT_MESSAGES_PER_MINUTE: "10000" });
  const doc = (await gw.call("GET", "/openapi.json")).json() as {
    paths: Record<string, Record<string, { security?: unknown[] }>>;
  };
  ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      secured: (op.security?.length ?? 0) > 0,
    })),
  );
  [owner, participant, stranger, extra, newcomer] = await Promise.all([
    gw.user(),
    gw.user(),
    gw.user(),
    gw.user(),
    gw.user(),
  ]);
  tokens = {
    none: undefined,
    bad: "not.a.jwt",
    expired: (await issueAccessToken({ ...gw.config, ACCESS_TOKEN_EXPIRE_MINUTES: -1 }, owner.id))
      .access_token,
    foreign: (
      await issueAccessToken(
        { ...gw.config, SECRET_KEY: "another-secret-key-that-is-long-enough-42" },
        owner.id,
      )
    ).access_token,
  };
});
afterAll(async () => {
  await gw.close();
});

/** A fresh group for each case: owner, participant and `extra` in it, an agent, a message and its turn. */
async function fixture(): Promise<Record<string, string>> {
  const g = await gw.group(
    owner,
    { name: "matrix", members: [{ alias: "Helper", provider: "demo", model: "demo" }] },
    [participant, extra],
  );
  const m = (
    await gw.call("POST", `/groups/${g.id}/messages`, { token: owner.token, body: { content: "hi" } })
  ).json();
  return { id: g.id, member_id: g.members[1]!.id, user_id: extra.id, turn_id: m.turn_id };
}

const fill = (path: string, ids: Record<string, string>) =>
  path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name] ?? randomUUID());

describe("authorization matrix", () => {
  it("every group-scoped route has an expectation, and every expectation a route", () => {
    const groupOps = ops.filter((o) => o.path.startsWith("/groups/{id}")).map((o) => `${o.method} ${o.path}`);
    expect(groupOps.length).toBeGreaterThan(0);
    expect(groupOps.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it("owner / participant / stranger get the expected status on every group route", async () => {
    const results: string[] = [];
    const expected: string[] = [];
    for (const op of ops.filter((o) => o.path.startsWith("/groups/{id}"))) {
      const key = `${op.method} ${op.path}`;
      for (const role of ["owner", "participant", "stranger"] as const) {
        const ids = await fixture();
        const user = { owner, participant, stranger }[role];
        const res = await gw.call(op.method as "GET", fill(op.path, ids), {
          token: user.token,
          body: bodyFor(key, newcomer),
        });
        results.push(`${key} as ${role}: ${res.statusCode}`);
        expected.push(`${key} as ${role}: ${EXPECTED[key]?.[role]}`);
        if (res.statusCode >= 400)
          expect(res.json()).toEqual({ detail: expect.any(String), code: expect.any(String) });
      }
    }
    expect(results).toEqual(expected);
  });

  it("no token, a bad token, an expired token, or one signed with another key → 401 on every authenticated route", async () => {
    const ids = await fixture();
    const secured = ops.filter((o) => o.secured);
    expect(secured.length).toBeGreaterThanOrEqual(Object.keys(EXPECTED).length + 4);
    const results: string[] = [];
    for (const op of secured)
      for (const [kind, token] of Object.entries(tokens)) {
        const key = `${op.method} ${op.path}`;
        const res = await gw.call(op.method as "GET", fill(op.path, ids), {
          ...(token ? { token } : {}),
          body: bodyFor(key, newcomer),
        });
        results.push(`${key} with ${kind}: ${res.statusCode} ${res.headers["www-authenticate"] ?? "-"}`);
      }
    expect(results).toEqual(
      secured.flatMap((op) =>
        Object.keys(tokens).map((kind) => `${op.method} ${op.path} with ${kind}: 401 Bearer`),
      ),
    );
    // and nothing was changed by those calls
    const detail = (await gw.call("GET", `/groups/${ids.id}`, { token: owner.token })).json();
    expect(detail.name).toBe("matrix");
    expect(detail.members).toHaveLength(2);
  });
});
