import { randomUUID } from "node:crypto";
import { type GroupFrame, type Message, publishFrame } from "@synapse/shared";
import { afterAll, describe, expect, it } from "vitest";
import { testConfig, testResources } from "../../../../test/support/services.ts";
import {
  postMessage,
  seedGroup,
  startGateway,
  storeMessage,
  TestClient,
  waitLive,
} from "../../test/ws/harness.ts";

/** A gateway's Redis subscriber loses its connection: what was published meanwhile is recovered. */
const res = testResources();
afterAll(() => res.close());

describe("subscriber reconnect", () => {
  /** A gateway of the test's own with one socket on a new group, and a way to cut its subscriber's connection. */
  async function withOwnGateway(
    fn: (t: { prefix: string; groupId: string; c: TestClient; cut: () => Promise<void> }) => Promise<void>,
  ): Promise<void> {
    const own = testConfig();
    const ownGw = await startGateway(own, res.pool);
    try {
      const { groupId, users } = await seedGroup(own, res.pool);
      const c = TestClient.connect(`${ownGw.url}/ws/${groupId}?token=${users[0]!.token}`);
      await waitLive([c], res.redis, own.QUEUE_PREFIX, groupId);
      const cut = async () => {
        const list = (await res.redis.client("LIST")) as string;
        const id = /id=(\d+) .*name=(\S+)/
          .exec(list.split("\n").find((l) => l.includes(`name=${own.QUEUE_PREFIX}-gateway-ws `)) ?? "")
          ?.at(1);
        expect(id).toBeDefined();
        await res.redis.client("KILL", "ID", id!);
      };
      await fn({ prefix: own.QUEUE_PREFIX, groupId, c, cut });
      c.close();
    } finally {
      await ownGw.close();
    }
  }

  it("delivers from the database the messages published while the subscriber was down", () =>
    withOwnGateway(async ({ prefix, groupId, c, cut }) => {
      await cut();
      // published while nobody of this gateway listens: lost on the wire
      for (let i = 1; i <= 3; i++) await postMessage(res.pool, res.redis, prefix, groupId, `${i}`);
      await c.until((f) => f.length >= 3, 10_000, "resynced messages");
      expect(c.seqs()).toEqual([1, 2, 3]);
    }));

  it("announces the turns that started or ended while the subscriber was down, once", () =>
    withOwnGateway(async ({ prefix, groupId, c, cut }) => {
      const turn = async (content: string, status: string, set = "") => {
        const m = await storeMessage(res.pool, groupId, content);
        const id = randomUUID();
        await res.pool.query(
          `insert into turns (id, group_id, message_id, message_seq, status, started_at) values ($1, $2, $3, $4, $5, now())`,
          [id, groupId, m.id, m.seq, status],
        );
        if (set) await res.pool.query(`update turns set ${set} where id = $1`, [id]);
        return { id, message: m };
      };
      // C started while the subscriber listened (its turn.started went out live)
      const early = await turn("c", "running");
      await res.pool.query("update turns set started_at = now() - interval '1 minute' where id = $1", [
        early.id,
      ]);
      await publishFrame(res.redis, prefix, groupId, {
        type: "message",
        message: early.message,
      });
      await publishFrame(res.redis, prefix, groupId, {
        type: "turn.started",
        group_id: groupId,
        turn_id: early.id,
        message_id: early.message.id,
      });
      await c.until((f) => f.some((x) => x.type === "turn.started"));

      await cut();
      // meanwhile (frames lost on the wire): C ends, B starts and is cancelled, A starts
      await res.pool.query(
        "update turns set status = 'ended', reason = 'completed', ended_at = now() where id = $1",
        [early.id],
      );
      const b = await turn("b", "running", "status = 'ended', reason = 'cancelled', ended_at = now()");
      const a = await turn("a", "running");

      await c.until((f) => f.filter((x) => x.type.startsWith("turn.")).length >= 4, 10_000, "turn frames");
      await new Promise((r) => setTimeout(r, 200));
      const turnFrames = c.frames
        .filter((f) => f.type.startsWith("turn."))
        .map((f) => [f.type, f.turn_id, f.reason ?? f.message_id]);
      expect(turnFrames).toEqual([
        ["turn.started", early.id, early.message.id],
        ["turn.ended", early.id, "completed"],
        ["turn.started", b.id, b.message.id],
        ["turn.ended", b.id, "cancelled"],
        ["turn.started", a.id, a.message.id],
      ]);
      // the messages of the outage came first, in order
      expect(c.seqs()).toEqual([1, 2, 3]);
      const firstTurnFrame = c.frames.findIndex((f) => f.type.startsWith("turn.") && f.turn_id !== early.id);
      expect(
        c.frames.findIndex((f) => f.type === "message" && (f.message as Message).seq === 3),
      ).toBeLessThan(firstTurnFrame);

      // the live frames of those events, published late, are not sent again
      const pub = (f: GroupFrame) => publishFrame(res.redis, prefix, groupId, f);
      await pub({ type: "turn.started", group_id: groupId, turn_id: a.id, message_id: a.message.id });
      await pub({ type: "turn.ended", group_id: groupId, turn_id: b.id, reason: "cancelled" });
      await pub({
        type: "token",
        group_id: groupId,
        turn_id: b.id,
        alias: "X",
        message_id: b.id,
        delta: "x",
      });
      await pub({ type: "turn.ended", group_id: groupId, turn_id: a.id, reason: "completed" });
      await c.until((f) => f.filter((x) => x.type.startsWith("turn.")).length >= 6, 10_000, "a's end");
      await new Promise((r) => setTimeout(r, 100));
      expect(c.frames.filter((f) => f.type.startsWith("turn.") || f.type === "token").length).toBe(6);
    }));
});
