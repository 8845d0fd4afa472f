import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GroupDetail, type TestGateway, type TestUser, testGateway } from "../../test/helpers.ts";

let gw: TestGateway;
let owner: TestUser;
let participant: TestUser;
beforeAll(async () => {
  gw = await testGateway({ OPENAI_ENDPOINTS: "ollama=http://127.0.0.1:11434/v1" });
  owner = await gw.user();
  participant = await gw.user();
});
afterAll(async () => {
  await gw.close();
});

const agent = (over: Record<string, unknown> = {}) => ({
  alias: `Agent ${randomUUID().slice(0, 8)}`,
  provider: "openai",
  model: "gpt-4o-mini",
  ...over,
});

async function newGroup(): Promise<GroupDetail> {
  return gw.group(owner, { name: "agents" }, [participant]);
}

describe("POST /groups/{id}/members", () => {
  it("201 Member: provider normalized, tools deduplicated, defaults applied", async () => {
    const g = await newGroup();
    const res = await gw.call("POST", `/groups/${g.id}/members`, {
      token: owner.token,
      body: {
        alias: "  Re.search_er-1 ",
        provider: "Anthropic",
        model: "any-model-name",
        tools: ["calculator", "calculator", "web_search"],
      },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      id: expect.any(String),
      group_id: g.id,
      alias: "Re.search_er-1",
      role_prompt: "",
      provider: "claude",
      model: "any-model-name",
      temperature: 0.7,
      tools: ["calculator", "web_search"],
      is_orchestrator: false,
    });
    const endpoint = await gw.call("POST", `/groups/${g.id}/members`, {
      token: owner.token,
      body: agent({ provider: "ollama", model: "llama3", temperature: 0 }),
    });
    expect(endpoint.statusCode).toBe(201);
    expect(endpoint.json()).toMatchObject({ provider: "ollama", temperature: 0 });
  });

  it("409 alias_taken for an alias used in the group, ignoring case", async () => {
    const g = await newGroup();
    expect(
      (
        await gw.call("POST", `/groups/${g.id}/members`, {
          token: owner.token,
          body: agent({ alias: "Bob" }),
        })
      ).statusCode,
    ).toBe(201);
    const dup = await gw.call("POST", `/groups/${g.id}/members`, {
      token: owner.token,
      body: agent({ alias: "BOB" }),
    });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().code).toBe("alias_taken");
  });

  it.each([
    ["reserved alias user", { alias: "User" }, "body.alias"],
    ["reserved alias system", { alias: "system" }, "body.alias"],
    ["reserved alias orchestrator", { alias: "ORCHESTRATOR" }, "body.alias"],
    ["alias with @", { alias: "a@b" }, "body.alias"],
    ["empty alias", { alias: "   " }, "body.alias"],
    ["alias of 101 chars", { alias: "a".repeat(101) }, "body.alias"],
    ["unknown provider", { provider: "mystery" }, "body.provider"],
    ["unknown tool", { tools: ["calculator", "rm_rf"] }, "body.tools.1"],
    ["temperature above 2", { temperature: 2.5 }, "body.temperature"],
    ["temperature below 0", { temperature: -0.1 }, "body.temperature"],
    ["empty model", { model: "" }, "body.model"],
    ["unknown field", { color: "blue" }, "body.color"],
  ])("422 for %s", async (_n, over, field) => {
    const g = await newGroup();
    const res = await gw.call("POST", `/groups/${g.id}/members`, { token: owner.token, body: agent(over) });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe("validation_error");
    expect(res.json().detail).toContain(field);
  });

  it("403 for a participant, 404 for a stranger", async () => {
    const g = await newGroup();
    const stranger = await gw.user();
    expect(
      (await gw.call("POST", `/groups/${g.id}/members`, { token: participant.token, body: agent() }))
        .statusCode,
    ).toBe(403);
    expect(
      (await gw.call("POST", `/groups/${g.id}/members`, { token: stranger.token, body: agent() })).statusCode,
    ).toBe(404);
  });
});

describe("PUT /groups/{id}/members/{member_id}", () => {
  it("is partial: the role prompt and everything not given are kept", async () => {
    const g = await newGroup();
    const created = (
      await gw.call("POST", `/groups/${g.id}/members`, {
        token: owner.token,
        body: agent({ role_prompt: "Keep me", tools: ["calculator"], temperature: 1.2 }),
      })
    ).json();
    const res = await gw.call("PUT", `/groups/${g.id}/members/${created.id}`, {
      token: owner.token,
      body: { model: "gpt-4.1" },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ...created, model: "gpt-4.1" });
    const renamed = await gw.call("PUT", `/groups/${g.id}/members/${created.id}`, {
      token: owner.token,
      body: { alias: "Renamed", tools: [] },
    });
    expect(renamed.json()).toMatchObject({
      alias: "Renamed",
      tools: [],
      role_prompt: "Keep me",
      temperature: 1.2,
    });
  });

  it("409 when renaming onto another agent's alias; 404 for an unknown or foreign member", async () => {
    const g = await newGroup();
    const other = await newGroup();
    const a = (
      await gw.call("POST", `/groups/${g.id}/members`, { token: owner.token, body: agent({ alias: "Ann" }) })
    ).json();
    await gw.call("POST", `/groups/${g.id}/members`, { token: owner.token, body: agent({ alias: "Ben" }) });
    const clash = await gw.call("PUT", `/groups/${g.id}/members/${a.id}`, {
      token: owner.token,
      body: { alias: "ben" },
    });
    expect(clash.statusCode).toBe(409);
    expect(clash.json().code).toBe("alias_taken");
    expect(
      (await gw.call("PUT", `/groups/${g.id}/members/${randomUUID()}`, { token: owner.token, body: {} }))
        .statusCode,
    ).toBe(404);
    expect(
      (await gw.call("PUT", `/groups/${other.id}/members/${a.id}`, { token: owner.token, body: {} }))
        .statusCode,
    ).toBe(404);
    expect(
      (await gw.call("PUT", `/groups/${g.id}/members/xyz`, { token: owner.token, body: {} })).statusCode,
    ).toBe(422);
  });

  it("the Orchestrator: provider, model, temperature, role_prompt editable; renaming it is 400 orchestrator_protected", async () => {
    const g = await newGroup();
    const orch = g.members[0]!;
    expect(orch.is_orchestrator).toBe(true);
    const edited = await gw.call("PUT", `/groups/${g.id}/members/${orch.id}`, {
      token: owner.token,
      body: { provider: "gemini", model: "gemini-2.5-pro", temperature: 0.1, role_prompt: "Lead well." },
    });
    expect(edited.statusCode).toBe(200);
    expect(edited.json()).toMatchObject({
      alias: "Orchestrator",
      provider: "gemini",
      model: "gemini-2.5-pro",
      temperature: 0.1,
      role_prompt: "Lead well.",
      is_orchestrator: true,
    });
    const same = await gw.call("PUT", `/groups/${g.id}/members/${orch.id}`, {
      token: owner.token,
      body: { alias: "Orchestrator" },
    });
    expect(same.statusCode).toBe(422); // reserved: no agent may be called that by a request
    const rename = await gw.call("PUT", `/groups/${g.id}/members/${orch.id}`, {
      token: owner.token,
      body: { alias: "Boss" },
    });
    expect(rename.statusCode).toBe(400);
    expect(rename.json().code).toBe("orchestrator_protected");
  });
});

describe("DELETE /groups/{id}/members/{member_id}", () => {
  it("204 for an agent; 400 orchestrator_protected for the Orchestrator; 403/404 for others", async () => {
    const g = await newGroup();
    const stranger = await gw.user();
    const a = (
      await gw.call("POST", `/groups/${g.id}/members`, { token: owner.token, body: agent() })
    ).json();
    expect(
      (await gw.call("DELETE", `/groups/${g.id}/members/${a.id}`, { token: participant.token })).statusCode,
    ).toBe(403);
    expect(
      (await gw.call("DELETE", `/groups/${g.id}/members/${a.id}`, { token: stranger.token })).statusCode,
    ).toBe(404);
    const res = await gw.call("DELETE", `/groups/${g.id}/members/${a.id}`, { token: owner.token });
    expect(res.statusCode).toBe(204);
    expect(
      (await gw.call("DELETE", `/groups/${g.id}/members/${a.id}`, { token: owner.token })).statusCode,
    ).toBe(404);
    const orch = await gw.call("DELETE", `/groups/${g.id}/members/${g.members[0]!.id}`, {
      token: owner.token,
    });
    expect(orch.statusCode).toBe(400);
    expect(orch.json().code).toBe("orchestrator_protected");
    const detail = (await gw.call("GET", `/groups/${g.id}`, { token: owner.token })).json();
    expect(detail.members.map((m: { alias: string }) => m.alias)).toEqual(["Orchestrator"]);
  });
});
