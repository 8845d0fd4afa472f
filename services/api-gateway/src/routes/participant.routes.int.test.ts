import { groupChannel } from "@synapse/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestGateway, testGateway } from "../../test/helpers.ts";

let gw: TestGateway;
beforeAll(async () => {
  gw = await testGateway();
});
afterAll(async () => {
  await gw.close();
});

describe("POST /groups/{id}/participants", () => {
  it("201 {user_id, email, role}; the new participant can read and post", async () => {
    const [owner, friend] = [await gw.user(), await gw.user()];
    const g = await gw.group(owner);
    const res = await gw.call("POST", `/groups/${g.id}/participants`, {
      token: owner.token,
      body: { email: friend.email.toUpperCase() },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ user_id: friend.id, email: friend.email, role: "member" });
    expect((await gw.call("GET", `/groups/${g.id}`, { token: friend.token })).statusCode).toBe(200);
    const post = await gw.call("POST", `/groups/${g.id}/messages`, {
      token: friend.token,
      body: { content: "hi" },
    });
    expect(post.statusCode).toBe(202);
  });

  it.each(["not-an-email", "a@", "@example.com", "a b@example.com", " a@example.com", "a@example", ""])(
    "422 naming body.email for the malformed email %j, before any look-up",
    async (email) => {
      const [owner, participant] = [await gw.user(), await gw.user()];
      const g = await gw.group(owner, undefined, [participant]);
      // the owner, a participant (who may not add people) and a group that does not exist: all 422
      for (const [token, groupId] of [
        [owner.token, g.id],
        [participant.token, g.id],
        [owner.token, "00000000-0000-4000-8000-000000000000"],
      ]) {
        const res = await gw.call("POST", `/groups/${groupId}/participants`, { token, body: { email } });
        expect(res.statusCode).toBe(422);
        expect(res.json()).toEqual({
          detail: expect.stringContaining("body.email"),
          code: "validation_error",
        });
      }
    },
  );

  it("404 for an unknown email, 409 for someone already in, 403 for a participant, 404 for a stranger", async () => {
    const [owner, friend, stranger, other] = [
      await gw.user(),
      await gw.user(),
      await gw.user(),
      await gw.user(),
    ];
    const g = await gw.group(owner, undefined, [friend]);
    const unknown = await gw.call("POST", `/groups/${g.id}/participants`, {
      token: owner.token,
      body: { email: "nobody-here@example.com" },
    });
    expect(unknown.statusCode).toBe(404);
    const again = await gw.call("POST", `/groups/${g.id}/participants`, {
      token: owner.token,
      body: { email: friend.email },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe("already_participant");
    const self = await gw.call("POST", `/groups/${g.id}/participants`, {
      token: owner.token,
      body: { email: owner.email },
    });
    expect(self.statusCode).toBe(409);
    expect(
      (
        await gw.call("POST", `/groups/${g.id}/participants`, {
          token: friend.token,
          body: { email: other.email },
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (
        await gw.call("POST", `/groups/${g.id}/participants`, {
          token: stranger.token,
          body: { email: other.email },
        })
      ).statusCode,
    ).toBe(404);
    expect(
      (await gw.call("POST", `/groups/${g.id}/participants`, { token: owner.token, body: {} })).statusCode,
    ).toBe(422);
  });
});

describe("DELETE /groups/{id}/participants/{user_id}", () => {
  it("204 by the owner; the removed user then gets 404; `_participant.removed` is published", async () => {
    const [owner, friend] = [await gw.user(), await gw.user()];
    const g = await gw.group(owner, undefined, [friend]);
    const sub = gw.redis.duplicate();
    const frames: unknown[] = [];
    await sub.subscribe(groupChannel(gw.config.QUEUE_PREFIX, g.id));
    sub.on("message", (_c, raw) => frames.push(JSON.parse(raw)));
    try {
      const res = await gw.call("DELETE", `/groups/${g.id}/participants/${friend.id}`, {
        token: owner.token,
      });
      expect(res.statusCode).toBe(204);
      await expect
        .poll(() => frames)
        .toEqual([{ type: "_participant.removed", group_id: g.id, user_id: friend.id }]);
    } finally {
      sub.disconnect();
    }
    expect((await gw.call("GET", `/groups/${g.id}`, { token: friend.token })).statusCode).toBe(404);
    expect((await gw.call("GET", `/groups/${g.id}/messages`, { token: friend.token })).statusCode).toBe(404);
    expect(
      (await gw.call("DELETE", `/groups/${g.id}/participants/${friend.id}`, { token: owner.token }))
        .statusCode,
    ).toBe(404);
  });

  it("the owner cannot be removed (400 owner_protected); a participant can leave but not remove others", async () => {
    const [owner, a, b, stranger] = [await gw.user(), await gw.user(), await gw.user(), await gw.user()];
    const g = await gw.group(owner, undefined, [a, b]);
    const ownerRemoved = await gw.call("DELETE", `/groups/${g.id}/participants/${owner.id}`, {
      token: owner.token,
    });
    expect(ownerRemoved.statusCode).toBe(400);
    expect(ownerRemoved.json().code).toBe("owner_protected");
    expect(
      (await gw.call("DELETE", `/groups/${g.id}/participants/${owner.id}`, { token: a.token })).statusCode,
    ).toBe(403);
    expect(
      (await gw.call("DELETE", `/groups/${g.id}/participants/${b.id}`, { token: a.token })).statusCode,
    ).toBe(403);
    expect(
      (await gw.call("DELETE", `/groups/${g.id}/participants/${b.id}`, { token: stranger.token })).statusCode,
    ).toBe(404);
    expect(
      (await gw.call("DELETE", `/groups/${g.id}/participants/${a.id}`, { token: a.token })).statusCode,
    ).toBe(204);
    expect((await gw.call("GET", `/groups/${g.id}`, { token: a.token })).statusCode).toBe(404);
    expect(
      (await gw.call("DELETE", `/groups/${g.id}/participants/nope`, { token: owner.token })).statusCode,
    ).toBe(422);
  });
});
