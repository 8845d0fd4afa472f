import { randomUUID } from "node:crypto";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestGateway, testGateway } from "../../test/helpers.ts";

let gw: TestGateway;
beforeAll(async () => {
  gw = await testGateway();
});
afterAll(async () => {
  await gw.close();
});

const newEmail = () => `Auth-${randomUUID()}@Example.com`;
const password = "s3cret-password";

describe("POST /auth/register", () => {
  it("creates the user (201 {id, email}) with an argon2id hash, email stored as given", async () => {
    const email = newEmail();
    const res = await gw.call("POST", "/auth/register", { body: { email, password } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ id: expect.any(String), email });
    const { rows } = await gw.pool.query("select email, password_hash from users where id = $1", [
      res.json().id,
    ]);
    expect(rows[0].email).toBe(email);
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$/);
    expect(rows[0].password_hash).not.toContain(password);
  });

  it("409 email_taken for an existing email, ignoring case", async () => {
    const email = newEmail();
    expect((await gw.call("POST", "/auth/register", { body: { email, password } })).statusCode).toBe(201);
    const again = await gw.call("POST", "/auth/register", { body: { email: email.toLowerCase(), password } });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({ detail: expect.any(String), code: "email_taken" });
  });

  it.each([
    ["malformed email", { email: "not-an-email", password }, "body.email"],
    ["email with a NUL", { email: "a\u0000b@example.com", password }, "body.email"],
    ["email with a lone surrogate", { email: "a\ud800@example.com", password }, "body.email"],
    ["short password", { email: newEmail(), password: "1234567" }, "body.password"],
    ["missing password", { email: newEmail() }, "body.password"],
    ["unknown field", { email: newEmail(), password, admin: true }, "body.admin"],
    ["wrong type", { email: 42, password }, "body.email"],
  ])("422 for %s, naming the field", async (_name, body, field) => {
    const res = await gw.call("POST", "/auth/register", { body });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe("validation_error");
    expect(res.json().detail).toContain(field);
  });
});

describe("POST /auth/login", () => {
  let email: string;
  let userId: string;
  beforeAll(async () => {
    email = newEmail();
    userId = (await gw.call("POST", "/auth/register", { body: { email, password } })).json().id;
  });

  it("JSON {email, password} → 200 {access_token, token_type, expires_in}; the JWT has sub, iat, exp", async () => {
    const res = await gw.call("POST", "/auth/login", { body: { email, password } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toEqual({ access_token: expect.any(String), token_type: "bearer", expires_in: 1440 * 60 });
    const claims = decodeJwt(body.access_token);
    expect(claims.sub).toBe(userId);
    expect(claims.exp! - claims.iat!).toBe(1440 * 60);
  });

  it("OAuth2 form (username, password, grant_type, scope) → 200; email matched ignoring case", async () => {
    const res = await gw.app.inject({
      method: "POST",
      url: "/auth/login",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: new URLSearchParams({
        grant_type: "password",
        username: email.toUpperCase(),
        password,
        scope: "",
      }).toString(),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().token_type).toBe("bearer");
  });

  it("the same 401 for an unknown email and a wrong password", async () => {
    const wrong = await gw.call("POST", "/auth/login", { body: { email, password: "wrong-password" } });
    const unknown = await gw.call("POST", "/auth/login", { body: { email: newEmail(), password } });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
    expect(wrong.json().code).toBe("unauthorized");
  });

  it("422 for a missing field, JSON or form", async () => {
    const json = await gw.call("POST", "/auth/login", { body: { email } });
    expect(json.statusCode).toBe(422);
    expect(json.json().detail).toContain("body.password");
    const form = await gw.app.inject({
      method: "POST",
      url: "/auth/login",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: "password=x",
    });
    expect(form.statusCode).toBe(422);
    expect(form.json().detail).toContain("body.username");
    const none = await gw.call("POST", "/auth/login");
    expect(none.statusCode).toBe(422);
  });

  it.each(["not-an-email", "a@", "@example.com", "a b@example.com", "a@example"])(
    "422 naming the field for the malformed email %j, JSON or form (no 401)",
    async (malformed) => {
      const json = await gw.call("POST", "/auth/login", { body: { email: malformed, password } });
      expect(json.statusCode).toBe(422);
      expect(json.json()).toEqual({
        detail: expect.stringContaining("body.email"),
        code: "validation_error",
      });
      const form = await gw.app.inject({
        method: "POST",
        url: "/auth/login",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        payload: new URLSearchParams({ username: malformed, password }).toString(),
      });
      expect(form.statusCode).toBe(422);
      expect(form.json()).toEqual({
        detail: expect.stringContaining("body.username"),
        code: "validation_error",
      });
    },
  );

  it("415 for another content type", async () => {
    const res = await gw.app.inject({
      method: "POST",
      url: "/auth/login",
      headers: { "content-type": "application/xml" },
      payload: "<login/>",
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().code).toBe("unsupported_media_type");
  });
});

describe("GET /auth/me", () => {
  it("200 {id, email} with a token; 401 with WWW-Authenticate: Bearer without one", async () => {
    const u = await gw.user();
    const me = await gw.call("GET", "/auth/me", { token: u.token });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({ id: u.id, email: u.email });
    const anonymous = await gw.call("GET", "/auth/me");
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers["www-authenticate"]).toBe("Bearer");
    expect(anonymous.json().code).toBe("unauthorized");
    const bad = await gw.call("GET", "/auth/me", { token: `${u.token}x` });
    expect(bad.statusCode).toBe(401);
  });

  it("401 when the token's user no longer exists", async () => {
    const u = await gw.user();
    await gw.pool.query("delete from users where id = $1", [u.id]);
    expect((await gw.call("GET", "/auth/me", { token: u.token })).statusCode).toBe(401);
  });
});

describe("per-IP rate limit on login and register", () => {
  it("429 with Retry-After over RATE_LIMIT_AUTH_PER_MINUTE", async () => {
    const limited = await testGateway({ RATE_LIMIT_AUTH_PER_MINUTE: "3" });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++)
        statuses.push(
          (await limited.call("POST", "/auth/login", { body: { email: newEmail(), password } })).statusCode,
        );
      expect(statuses).toEqual([401, 401, 401]);
      const res = await limited.call("POST", "/auth/register", { body: { email: newEmail(), password } });
      expect(res.statusCode).toBe(429);
      expect(res.json().code).toBe("rate_limited");
      const retryAfter = Number(res.headers["retry-after"]);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    } finally {
      await limited.close();
    }
  });
});
