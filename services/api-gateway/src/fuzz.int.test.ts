import { randomUUID } from "node:crypto";
import fc from "fast-check";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestGateway, type TestUser, testGateway } from "../test/helpers.ts";

/**
 * Malformed bodies, queries, ids and headers for every route of the OpenAPI document: never a 5xx,
 * every error is `{detail, code}`.
 */
interface Op {
  method: string;
  path: string;
  properties: Record<string, unknown>;
}

let gw: TestGateway;
let ops: Op[];
let owner: TestUser;
let ids: Record<string, string>;

beforeAll(async () => {
  gw = await testGateway({ RATE_LIMIT_MESSAGES_PER_MINUTE: "100000" });
  owner = await gw.user();
  const doc = (await gw.call("GET", "/openapi.json")).json() as {
    paths: Record<
      string,
      Record<
        string,
        { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } }
      >
    >;
  };
  ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      properties: op.requestBody?.content["application/json"]?.schema.properties ?? {},
    })),
  );
  const g = await gw.group(owner, {
    name: "fuzz",
    members: [{ alias: "Helper", provider: "demo", model: "demo" }],
  });
  const m = (
    await gw.call("POST", `/groups/${g.id}/messages`, { token: owner.token, body: { content: "x" } })
  ).json();
  ids = { id: g.id, member_id: g.members[1]!.id, user_id: owner.id, turn_id: m.turn_id };
});
afterAll(async () => {
  await gw.close();
});

const RUNS = 40;
const destructive = (op: Op) => op.method === "DELETE";

function fill(path: string, real: boolean, override?: [string, string]): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (override && override[0] === name) return encodeURIComponent(override[1]);
    return real ? (ids[name] ?? randomUUID()) : randomUUID();
  });
}

function checkAnswer(res: LightMyRequestResponse, what: string): void {
  if (res.statusCode >= 500) throw new Error(`${what} → ${res.statusCode} ${res.body}`);
  if (res.statusCode >= 400) {
    const body = res.json();
    if (typeof body.detail !== "string" || !body.detail || typeof body.code !== "string")
      throw new Error(`${what} → ${res.statusCode} without {detail, code}: ${res.body}`);
  }
}

const text = fc.string({ unit: "grapheme", maxLength: 60 });
const junk = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  text,
  fc.constantFrom(null, true, -1, 1e308, "", " ", "\u0000", "../..", "' or 1=1 --", "<script>"),
);

describe("fuzz: malformed input never causes a 5xx", () => {
  it("malformed path ids → 422 (or 404), never 5xx", async () => {
    for (const op of ops.filter((o) => o.path.includes("{"))) {
      const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...params),
          // "." and ".." are URL dot-segments, resolved before routing, not ids
          text.filter((s) => s.length > 0 && s !== "." && s !== ".." && !/^[0-9a-f-]{36}$/i.test(s)),
          async (param, value) => {
            const url = fill(op.path, true, [param, value]);
            const res = await gw.call(op.method as "GET", url, {
              token: owner.token,
              body: op.method === "POST" || op.method === "PUT" ? {} : undefined,
            });
            checkAnswer(res, `${op.method} ${url}`);
            expect([404, 422], `${op.method} ${url}`).toContain(res.statusCode);
          },
        ),
        { numRuns: RUNS },
      );
    }
  });

  it("unknown or malformed query parameters → 4xx with detail", async () => {
    for (const op of ops) {
      await fc.assert(
        fc.asyncProperty(
          fc.dictionary(
            fc.oneof(fc.constantFrom("limit", "before", "after", "before_timestamp"), text),
            text,
            { minKeys: 1, maxKeys: 4 },
          ),
          async (query) => {
            const url = `${fill(op.path, !destructive(op))}?${new URLSearchParams(query).toString()}`;
            const res = await gw.call(op.method as "GET", url, {
              token: owner.token,
              body: op.method === "POST" || op.method === "PUT" ? {} : undefined,
            });
            checkAnswer(res, `${op.method} ${url}`);
          },
        ),
        { numRuns: RUNS },
      );
    }
  });

  it("malformed JSON bodies (random values, wrong field types, extra fields, broken JSON) → no 5xx", async () => {
    for (const op of ops) {
      const fields = Object.keys(op.properties);
      const body = fc.oneof(
        junk,
        // the route's own fields with random values, sometimes an extra one
        fc.record(Object.fromEntries(fields.map((f) => [f, junk])), { requiredKeys: [] }),
        fc
          .tuple(fc.record(Object.fromEntries(fields.map((f) => [f, junk]))), text, junk)
          .map(([o, k, v]) => ({ ...o, [k]: v })),
      );
      await fc.assert(
        fc.asyncProperty(body, fc.boolean(), async (payload, raw) => {
          const url = fill(op.path, !destructive(op));
          const res = await gw.app.inject({
            method: op.method as "GET",
            url,
            headers: { authorization: `Bearer ${owner.token}`, "content-type": "application/json" },
            payload: raw ? `${JSON.stringify(payload)}}` : JSON.stringify(payload),
          });
          checkAnswer(res, `${op.method} ${url} ${JSON.stringify(payload)}`);
        }),
        { numRuns: RUNS },
      );
    }
  });

  it("form bodies and odd headers on login and messages → no 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(text, text, { maxKeys: 5 }), async (form) => {
        const res = await gw.app.inject({
          method: "POST",
          url: "/auth/login",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          payload: new URLSearchParams(form).toString(),
        });
        checkAnswer(res, `login form ${JSON.stringify(form)}`);
      }),
      { numRuns: RUNS * 2 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), async (key) => {
        const res = await gw.call("POST", `/groups/${ids.id}/messages`, {
          token: owner.token,
          body: { content: "k" },
          headers: { "idempotency-key": key },
        });
        checkAnswer(res, `idempotency-key ${JSON.stringify(key)}`);
        expect(res.statusCode).toBe(key.length >= 1 && key.length <= 200 ? 202 : 422);
      }),
      { numRuns: RUNS * 2 },
    );
  });
});
