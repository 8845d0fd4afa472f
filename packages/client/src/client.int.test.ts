import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type TestGateway, testGateway } from "../../../services/api-gateway/test/helpers.ts";
import { type ConnectionState, createApi, GroupSocket, type ServerFrame, type StateInfo } from "./index.ts";

/** The SDK against a real gateway (in-process, listening on a port) on the run's PostgreSQL and Redis. */
let gw: TestGateway;
let baseUrl: string;
beforeAll(async () => {
  gw = await testGateway();
  await gw.app.listen({ host: "127.0.0.1", port: 0 });
  baseUrl = `http://127.0.0.1:${(gw.app.server.address() as AddressInfo).port}`;
});
afterAll(() => gw?.close());

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function socket(groupId: string, token: () => string | null, after?: number) {
  const frames: ServerFrame[] = [];
  const states: [ConnectionState, StateInfo | undefined][] = [];
  const s = new GroupSocket({
    baseUrl,
    groupId,
    token,
    ...(after !== undefined ? { after } : {}),
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
  });
  s.onFrame((f) => frames.push(f));
  s.onState((st, info) => states.push([st, info]));
  return { s, frames, states };
}

describe("@synapse/client against the gateway", () => {
  it("logs in, creates a group, posts and streams the message; resumes after a seq", async () => {
    let token: string | null = null;
    const api = createApi({ baseUrl, token: () => token });
    const email = `sdk-${crypto.randomUUID()}@example.com`;
    const password = "correct horse battery";
    const reg = await api.POST("/auth/register", { body: { email, password } });
    expect(reg.response.status).toBe(201);
    const login = await api.POST("/auth/login", { body: { email, password } });
    token = login.data!.access_token;
    const me = await api.GET("/auth/me");
    expect(me.data?.email).toBe(email);

    const group = await api.POST("/groups", { body: { name: "sdk" } });
    const groupId = group.data!.id;
    const live = socket(groupId, () => token);
    await until(() => live.s.state === "open", "open");

    const posted = await api.POST("/groups/{id}/messages", {
      params: { path: { id: groupId } },
      body: { content: "hello from the SDK" },
    });
    expect(posted.response.status).toBe(202);
    await until(() => live.frames.some((f) => f.type === "message"), "the message frame");
    expect(live.s.lastSeq).toBe(posted.data!.seq);
    live.s.close();

    await api.POST("/groups/{id}/messages", {
      params: { path: { id: groupId } },
      body: { content: "while away" },
    });
    const resumed = socket(groupId, () => token, posted.data!.seq);
    await until(() => resumed.frames.some((f) => f.type === "message"), "the replayed message");
    const seqs = resumed.frames.flatMap((f) => (f.type === "message" ? [f.message.seq] : []));
    expect(seqs).toEqual([posted.data!.seq + 1]);
    resumed.s.close();
  });

  it("a refused token: 401 calls onUnauthorized, the socket closes with 1008 and stays closed", async () => {
    let unauthorized = 0;
    const api = createApi({ baseUrl, token: () => "not-a-jwt", onUnauthorized: () => unauthorized++ });
    const res = await api.GET("/groups");
    expect(res.response.status).toBe(401);
    expect(res.error?.code).toBeDefined();
    expect(unauthorized).toBe(1);

    const refused = socket(crypto.randomUUID(), () => "not-a-jwt");
    await until(() => refused.s.state === "closed", "closed");
    expect(refused.states.at(-1)?.[1]?.code).toBe(1008);
  });
});
