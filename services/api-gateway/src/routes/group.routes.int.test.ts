import { randomUUID } from "node:crypto";
import { cancelKey, groupChannel, insertMessage } from "@synapse/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestGateway, testGateway } from "../../test/helpers.ts";

let gw: TestGateway;
beforeAll(async () => {
  gw = await testGateway({ ORCHESTRATOR_PROVIDER: "anthropic", ORCHESTRATOR_MODEL: "claude-test-model" });
});
afterAll(async () => {
  await gw.close();
});

describe("POST /groups", () => {
  it("201 group detail with the configured Orchestrator first, then the given members", async () => {
    const owner = await gw.user();
    const res = await gw.call("POST", "/groups", {
      token: owner.token,
      body: {
        name: "Research",
        members: [{ alias: "Writer", role_prompt: "You write.", provider: "openai", model: "gpt-4o-mini" }],
      },
    });
    expect(res.statusCode).toBe(201);
    const g = res.json();
    expect(g).toMatchObject({ name: "Research", owner_id: owner.id });
    expect(g.created_at).toEqual(expect.any(String));
    expect(g.members).toHaveLength(2);
    expect(g.members[0]).toMatchObject({
      alias: "Orchestrator",
      is_orchestrator: true,
      provider: "claude",
      model: "claude-test-model",
      group_id: g.id,
    });
    expect(g.members[1]).toMatchObject({
      alias: "Writer",
      role_prompt: "You write.",
      provider: "openai",
      temperature: 0.7,
      tools: [],
      is_orchestrator: false,
    });
    expect(g.participants).toEqual([{ user_id: owner.id, email: owner.email, role: "owner" }]);
  });

  it("409 alias_taken when two members share an alias ignoring case; nothing is created", async () => {
    const owner = await gw.user();
    const res = await gw.call("POST", "/groups", {
      token: owner.token,
      body: {
        name: "dup",
        members: [
          { alias: "Bob", provider: "demo", model: "demo" },
          { alias: "bob", provider: "demo", model: "demo" },
        ],
      },
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe("alias_taken");
    const list = await gw.call("GET", "/groups", { token: owner.token });
    expect(list.json()).toEqual([]);
  });

  it.each([
    ["empty name", { name: "" }, "body.name"],
    ["long name", { name: "x".repeat(201) }, "body.name"],
    ["unknown field", { name: "a", color: "red" }, "body.color"],
    [
      "bad member",
      { name: "a", members: [{ alias: "A", provider: "nope", model: "m" }] },
      "body.members.0.provider",
    ],
  ])("422 for %s", async (_n, body, field) => {
    const owner = await gw.user();
    const res = await gw.call("POST", "/groups", { token: owner.token, body });
    expect(res.statusCode).toBe(422);
    expect(res.json().detail).toContain(field);
  });
});

describe("GET /groups and /groups/{id}", () => {
  it("lists the caller's groups newest first; a stranger sees neither list entry nor group (404)", async () => {
    const [owner, participant, stranger] = [await gw.user(), await gw.user(), await gw.user()];
    const first = await gw.group(owner, { name: "first" }, [participant]);
    const second = await gw.group(owner, { name: "second" });
    const list = await gw.call("GET", "/groups", { token: owner.token });
    expect(list.statusCode).toBe(200);
    expect(list.json().map((g: { id: string }) => g.id)).toEqual([second.id, first.id]);
    expect(list.json()[0].members[0].alias).toBe("Orchestrator");
    const theirs = await gw.call("GET", "/groups", { token: participant.token });
    expect(theirs.json().map((g: { id: string }) => g.id)).toEqual([first.id]);

    const detail = await gw.call("GET", `/groups/${first.id}`, { token: participant.token });
    expect(detail.statusCode).toBe(200);
    expect(detail.json().participants).toEqual([
      { user_id: owner.id, email: owner.email, role: "owner" },
      { user_id: participant.id, email: participant.email, role: "member" },
    ]);
    const hidden = await gw.call("GET", `/groups/${first.id}`, { token: stranger.token });
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json().code).toBe("not_found");
    expect((await gw.call("GET", `/groups/${randomUUID()}`, { token: owner.token })).statusCode).toBe(404);
    expect((await gw.call("GET", "/groups/not-a-uuid", { token: owner.token })).statusCode).toBe(422);
  });
});

describe("PUT /groups/{id}", () => {
  it("the owner renames (200); a participant gets 403, a stranger 404", async () => {
    const [owner, participant, stranger] = [await gw.user(), await gw.user(), await gw.user()];
    const g = await gw.group(owner, { name: "old" }, [participant]);
    const renamed = await gw.call("PUT", `/groups/${g.id}/`, { token: owner.token, body: { name: "new" } });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json().name).toBe("new");
    expect(Date.parse(renamed.json().updated_at)).toBeGreaterThanOrEqual(Date.parse(g.created_at));
    const forbidden = await gw.call("PUT", `/groups/${g.id}`, {
      token: participant.token,
      body: { name: "x" },
    });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().code).toBe("forbidden");
    expect(
      (await gw.call("PUT", `/groups/${g.id}`, { token: stranger.token, body: { name: "x" } })).statusCode,
    ).toBe(404);
  });
});

describe("DELETE /groups/{id}", () => {
  it("204; removes members, messages, turns; cancels the running turn; announces the deletion", async () => {
    const [owner, participant] = [await gw.user(), await gw.user()];
    const g = await gw.group(
      owner,
      { name: "doomed", members: [{ alias: "A", provider: "demo", model: "demo" }] },
      [participant],
    );
    const posted = await gw.call("POST", `/groups/${g.id}/messages`, {
      token: owner.token,
      body: { content: "hello" },
    });
    const turnId = posted.json().turn_id as string;
    await gw.pool.query("update turns set status = 'running', started_at = now() where id = $1", [turnId]);
    await insertMessage(gw.pool, {
      id: randomUUID(),
      group_id: g.id,
      turn_id: turnId,
      sender_type: "agent",
      sender_alias: "A",
      content: "answer",
    });

    expect((await gw.call("DELETE", `/groups/${g.id}`, { token: participant.token })).statusCode).toBe(403);

    const sub = gw.redis.duplicate();
    const frames: unknown[] = [];
    await sub.subscribe(groupChannel(gw.config.QUEUE_PREFIX, g.id));
    sub.on("message", (_c, raw) => frames.push(JSON.parse(raw)));
    try {
      const res = await gw.call("DELETE", `/groups/${g.id}`, { token: owner.token });
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe("");
      await expect.poll(() => frames.length).toBe(2);
      expect(frames).toEqual([
        { type: "_turn.cancelled", group_id: g.id, turn_id: turnId },
        { type: "_group.deleted", group_id: g.id },
      ]);
    } finally {
      sub.disconnect();
    }
    expect(await gw.redis.get(cancelKey(gw.config.QUEUE_PREFIX, turnId))).toBe("1");
    for (const table of ["groups", "agents", "messages", "turns", "group_participants"]) {
      const column = table === "groups" ? "id" : "group_id";
      const { rows } = await gw.pool.query(`select count(*)::int as n from ${table} where ${column} = $1`, [
        g.id,
      ]);
      expect({ table, n: rows[0].n }).toEqual({ table, n: 0 });
    }
    expect((await gw.call("GET", `/groups/${g.id}`, { token: owner.token })).statusCode).toBe(404);
    expect((await gw.call("DELETE", `/groups/${g.id}`, { token: owner.token })).statusCode).toBe(404);
  });
});
