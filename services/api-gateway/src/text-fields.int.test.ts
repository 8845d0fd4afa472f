import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestGateway, type TestUser, testGateway } from "../test/helpers.ts";

/**
 * Every text field of every JSON body refuses ill-formed UTF-16 (a lone surrogate, which JSON can
 * carry as "\ud800") with 422 naming the field. The routes come from the OpenAPI document, so a new
 * route or field without a valid sample here fails the test instead of going unchecked.
 */

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
}

let gw: TestGateway;
let owner: TestUser;
let other: TestUser;
let ids: Record<string, string>;
let bodies: Map<string, JsonSchema>;

const agent = (alias: string) => ({
  alias,
  role_prompt: "You help.",
  provider: "demo",
  model: "demo",
  temperature: 0.5,
  tools: ["calculator"],
});

/** A body each route accepts, with every field its schema has. */
function validBody(op: string): Record<string, unknown> {
  const samples: Record<string, () => Record<string, unknown>> = {
    "POST /auth/register": () => ({ email: `u-${randomUUID()}@example.com`, password: "long enough" }),
    "POST /auth/login": () => ({ email: owner.email, password: owner.password }),
    "POST /groups": () => ({ name: "texts", members: [agent(`A${randomUUID().slice(0, 6)}`)] }),
    "PUT /groups/{id}": () => ({ name: "renamed" }),
    "POST /groups/{id}/members": () => agent(`B${randomUUID().slice(0, 6)}`),
    "PUT /groups/{id}/members/{member_id}": () => agent(`C${randomUUID().slice(0, 6)}`),
    "POST /groups/{id}/participants": () => ({ email: other.email }),
    "POST /groups/{id}/messages": () => ({ content: "hello 𝕏 👩‍👩‍👧" }),
  };
  const sample = samples[op];
  if (!sample) throw new Error(`no valid sample body for ${op}: add one`);
  return sample();
}

/** Paths (`members.0.alias`) of the string leaves of a value. */
function stringLeaves(value: unknown, at: string[] = []): string[][] {
  if (typeof value === "string") return [at];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringLeaves(v, [...at, String(i)]));
  if (value && typeof value === "object")
    return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, [...at, k]));
  return [];
}

/** Property paths of a schema that are documented but missing from the sample (arrays: their first item). */
function missing(schema: JsonSchema, value: unknown, at = ""): string[] {
  if (schema.type === "array" && schema.items && Array.isArray(value))
    return missing(schema.items, value[0], `${at}0.`);
  return Object.entries(schema.properties ?? {}).flatMap(([k, s]) => {
    const v = (value as Record<string, unknown> | undefined)?.[k];
    return v === undefined ? [`${at}${k}`] : missing(s, v, `${at}${k}.`);
  });
}

function withValue(body: Record<string, unknown>, path: string[], value: string): Record<string, unknown> {
  const copy = structuredClone(body);
  let node = copy as Record<string, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[path.at(-1)!] = value;
  return copy;
}

const url = (path: string) => path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name]!);

beforeAll(async () => {
  gw = await testGateway({ RATE_LIMIT_MESSAGES_PER_MINUTE: "100000" });
  [owner, other] = [await gw.user(), await gw.user()];
  const g = await gw.group(owner, { name: "g", members: [agent("Helper")] });
  ids = { id: g.id, member_id: g.members[1]!.id };
  const doc = (await gw.call("GET", "/openapi.json")).json() as {
    paths: Record<
      string,
      Record<string, { requestBody?: { content: Record<string, { schema: JsonSchema }> } }>
    >;
  };
  bodies = new Map();
  for (const [path, methods] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(methods)) {
      const schema = op.requestBody?.content["application/json"]?.schema;
      if (schema) bodies.set(`${method.toUpperCase()} ${path}`, schema);
    }
});
afterAll(async () => {
  await gw.close();
});

describe("text fields refuse lone surrogates", () => {
  it("every route's sample body has every documented field", () => {
    expect(bodies.size).toBeGreaterThanOrEqual(8);
    for (const [op, schema] of bodies) expect(missing(schema, validBody(op)), op).toEqual([]);
  });

  it.each(["\ud800", "\udfff", "𝕏".slice(0, 1), "𝕏".slice(1)])(
    "%j anywhere in a string field → 422 naming that field",
    async (lone) => {
      for (const op of bodies.keys()) {
        const [method, path] = op.split(" ") as ["POST", string];
        const body = validBody(op);
        for (const leaf of stringLeaves(body)) {
          const field = `body.${leaf.join(".")}`;
          const bad = withValue(body, leaf, `ok ${lone} ok`);
          const res = await gw.call(method, url(path), { token: owner.token, body: bad });
          expect(res.statusCode, `${op} ${field}`).toBe(422);
          const detail: string = res.json().detail;
          expect(detail, `${op} ${field}`).toContain(`${field}:`);
          // the only field named is the one that is wrong
          expect(detail.split("; ").filter((d) => !d.startsWith(`${field}:`))).toEqual([]);
        }
      }
    },
  );

  it("the sample bodies themselves are accepted", async () => {
    for (const op of bodies.keys()) {
      const [method, path] = op.split(" ") as ["POST", string];
      const res = await gw.call(method, url(path), { token: owner.token, body: validBody(op) });
      expect(res.statusCode, `${op}: ${res.body}`).toBeLessThan(300);
    }
  });

  it("an Idempotency-Key with a lone surrogate → 422 naming the header", async () => {
    const res = await gw.call("POST", `/groups/${ids.id}/messages`, {
      token: owner.token,
      body: { content: "hi" },
      headers: { "idempotency-key": "key-\ud800" },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().detail).toContain("header.idempotency-key");
  });
});
