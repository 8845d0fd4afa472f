import { randomUUID } from "node:crypto";
import { publishFrame } from "@synapse/shared";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testConfig, testResources } from "../../../../test/support/services.ts";
import {
  postMessage,
  seedGroup,
  seedOutsider,
  startGateway,
  TestClient,
  type TestGateway,
  waitLive,
} from "../../test/ws/harness.ts";
import { issueAccessToken } from "../auth/tokens.ts";

const config = testConfig();
const prefix = config.QUEUE_PREFIX;
const res = testResources();
let gw: TestGateway;

beforeAll(async () => {
  gw = await startGateway(config, res.pool, { pingIntervalMs: 200 });
});

afterAll(async () => {
  await gw.close();
  await res.close();
});

describe("authentication", () => {
  it("accepts ?token=, the Authorization header and the bearer.<jwt> subprotocol", async () => {
    const { groupId, users } = await seedGroup(config, res.pool);
    const token = users[0]!.token;
    const byQuery = TestClient.connect(`${gw.url}/ws/${groupId}?token=${token}`);
    const byHeader = TestClient.connect(`${gw.url}/ws/${groupId}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const byProtocol = TestClient.connect(`${gw.url}/ws/${groupId}`, {}, [`bearer.${token}`]);
    const clients = [byQuery, byHeader, byProtocol];
    await Promise.all(clients.map((c) => c.opened));
    // a browser fails the handshake unless one offered subprotocol is echoed
    expect(byProtocol.ws.protocol).toBe(`bearer.${token}`);
    await waitLive(clients, res.redis, prefix, groupId);
    const m = await postMessage(res.pool, res.redis, prefix, groupId, "hello");
    for (const c of clients) {
      await c.until((f) => f.length >= 1);
      expect(c.frames).toEqual([{ type: "message", message: m }]);
      c.close();
    }
  });

  it("closes with 1008 for a bad, missing or foreign token, a stranger, a malformed or unknown group", async () => {
    const { groupId, users } = await seedGroup(config, res.pool);
    const outsider = await seedOutsider(config, res.pool);
    const foreign = (
      await issueAccessToken(
        { ...config, SECRET_KEY: "another-secret-key-that-is-long-enough-42" },
        users[0]!.id,
      )
    ).access_token;
    const expired = (await issueAccessToken({ ...config, ACCESS_TOKEN_EXPIRE_MINUTES: -1 }, users[0]!.id))
      .access_token;
    const cases: [string, string, RegExp][] = [
      ["missing token", `/ws/${groupId}`, /missing token/],
      ["garbage token", `/ws/${groupId}?token=not-a-jwt`, /invalid token/],
      ["foreign key", `/ws/${groupId}?token=${foreign}`, /invalid token/],
      ["expired", `/ws/${groupId}?token=${expired}`, /invalid token/],
      ["not a participant", `/ws/${groupId}?token=${outsider.token}`, /not a participant/],
      ["malformed group id", `/ws/not-a-uuid?token=${users[0]!.token}`, /invalid group id/],
      ["unknown group", `/ws/${randomUUID()}?token=${users[0]!.token}`, /not a participant/],
      ["bad after", `/ws/${groupId}?after=-3&token=${users[0]!.token}`, /invalid after/],
      ...["0x10", "1e2", "%205", "%2B5", "5.0", "", "99999999999999999999"].map(
        (after): [string, string, RegExp] => [
          `after=${after}`,
          `/ws/${groupId}?after=${after}&token=${users[0]!.token}`,
          /invalid after/,
        ],
      ),
    ];
    await Promise.all(
      cases.map(async ([name, path, reason]) => {
        const c = TestClient.connect(`${gw.url}${path}`);
        const closed = await c.closed;
        expect({ name, ...closed }).toMatchObject({
          name,
          code: 1008,
          reason: expect.stringMatching(reason),
        });
        expect(c.frames).toEqual([]);
      }),
    );
  });
});

describe("client frames", () => {
  it("answers ping with pong, garbage with an error frame, and stays open", async () => {
    const { groupId, users } = await seedGroup(config, res.pool);
    const c = TestClient.connect(`${gw.url}/ws/${groupId}?token=${users[0]!.token}`);
    await c.opened;
    c.ws.send("{not json");
    c.ws.send(JSON.stringify({ type: "subscribe" }));
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    c.ws.send(JSON.stringify({ type: "ping" }));
    await c.until((f) => f.length >= 4);
    expect(c.frames).toEqual([
      { type: "error", code: "invalid_json", detail: expect.any(String) },
      { type: "error", code: "unknown_frame", detail: expect.any(String) },
      { type: "error", code: "binary_frame", detail: expect.any(String) },
      { type: "pong" },
    ]);
    await waitLive([c], res.redis, prefix, groupId);
    const m = await postMessage(res.pool, res.redis, prefix, groupId, "still open");
    await c.until((f) => f.length >= 5);
    expect(c.frames[4]).toEqual({ type: "message", message: m });
    c.close();
  });

  it("closes a socket that sends a frame over the size cap (1009)", async () => {
    const { groupId, users } = await seedGroup(config, res.pool);
    const c = TestClient.connect(`${gw.url}/ws/${groupId}?token=${users[0]!.token}`);
    await c.opened;
    c.ws.send("x".repeat(100_000));
    expect((await c.closed).code).toBe(1009);
  });

  it("logs a client's oversized frame as a client fault, not as a server error", async () => {
    const lines: { level: number; msg: string; code?: string; stack?: string; err?: unknown }[] = [];
    const logger = pino({ level: "debug" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const own = await startGateway(config, res.pool, {}, logger);
    try {
      const { groupId, users } = await seedGroup(config, res.pool);
      const c = TestClient.connect(`${own.url}/ws/${groupId}?token=${users[0]!.token}`);
      await c.opened;
      c.ws.send("x".repeat(100_000));
      expect((await c.closed).code).toBe(1009);
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await own.close();
    }
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    const fault = lines.find((l) => l.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH");
    expect(fault).toMatchObject({ level: 30 });
    expect(JSON.stringify(fault)).not.toContain("RangeError");
  });
});

describe("membership and liveness", () => {
  it("closes the sockets of a removed participant (1008) and, on deletion, every socket (4404)", async () => {
    const { groupId, users } = await seedGroup(config, res.pool, 2);
    const [owner, member] = users as [{ id: string; token: string }, { id: string; token: string }];
    const ownerTab = TestClient.connect(`${gw.url}/ws/${groupId}?token=${owner.token}`);
    const memberTabs = [1, 2].map(() => TestClient.connect(`${gw.url}/ws/${groupId}?token=${member.token}`));
    await waitLive([ownerTab, ...memberTabs], res.redis, prefix, groupId);

    await publishFrame(res.redis, prefix, groupId, {
      type: "_participant.removed",
      group_id: groupId,
      user_id: member.id,
    });
    for (const tab of memberTabs)
      expect(await tab.closed).toEqual({ code: 1008, reason: "removed from the group" });
    const m = await postMessage(res.pool, res.redis, prefix, groupId, "owner still here");
    await ownerTab.until((f) => f.length >= 1);
    expect(ownerTab.frames).toEqual([{ type: "message", message: m }]);

    await publishFrame(res.redis, prefix, groupId, { type: "_group.deleted", group_id: groupId });
    expect(await ownerTab.closed).toEqual({ code: 4404, reason: "group deleted" });
    // control frames are never forwarded
    expect(memberTabs.flatMap((t) => t.frames)).toEqual([]);
  });

  it("drops a socket that stops answering pings, keeps one that answers", async () => {
    const { groupId, users } = await seedGroup(config, res.pool);
    const url = `${gw.url}/ws/${groupId}?token=${users[0]!.token}`;
    const healthy = TestClient.connect(url);
    const dead = TestClient.connect(url, { autoPong: false });
    await Promise.all([healthy.opened, dead.opened]);
    const closed = await dead.closed;
    // terminated without a close frame
    expect(closed.code).toBe(1006);
    expect(healthy.ws.readyState).toBe(healthy.ws.OPEN);
    healthy.close();
  });

  it("the close function closes every socket with 1001", async () => {
    const own = await startGateway(config, res.pool);
    const { groupId, users } = await seedGroup(config, res.pool);
    const c = TestClient.connect(`${own.url}/ws/${groupId}?token=${users[0]!.token}`);
    await waitLive([c], res.redis, prefix, groupId);
    await own.close();
    expect(await c.closed).toEqual({ code: 1001, reason: "server shutting down" });
  });
});
