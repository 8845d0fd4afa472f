import { randomUUID } from "node:crypto";
import { cancelKey, controlChannel, groupChannel } from "@synapse/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GroupDetail, type TestGateway, type TestUser, testGateway } from "../../test/helpers.ts";

let gw: TestGateway;
let owner: TestUser;
let participant: TestUser;
beforeAll(async () => {
  gw = await testGateway();
  [owner, participant] = [await gw.user(), await gw.user()];
});
afterAll(async () => {
  await gw.close();
});

async function groupWithTurn(): Promise<{ g: GroupDetail; turnId: string; messageId: string }> {
  const g = await gw.group(owner, undefined, [participant]);
  const m = (
    await gw.call("POST", `/groups/${g.id}/messages`, { token: owner.token, body: { content: "go" } })
  ).json();
  return { g, turnId: m.turn_id, messageId: m.id };
}

describe("GET /groups/{id}/turns/{turn_id}", () => {
  it("200 with status, reason, steps, message_id, times and usage", async () => {
    const { g, turnId, messageId } = await groupWithTurn();
    const queued = await gw.call("GET", `/groups/${g.id}/turns/${turnId}`, { token: participant.token });
    expect(queued.statusCode).toBe(200);
    expect(queued.json()).toEqual({
      id: turnId,
      status: "queued",
      reason: null,
      steps: 0,
      message_id: messageId,
      started_at: null,
      ended_at: null,
      cancelled_by: null,
      usage: { input_tokens: 0, output_tokens: 0, by_agent: {} },
    });
    const usage = {
      input_tokens: 30,
      output_tokens: 12,
      by_agent: { Orchestrator: { input_tokens: 30, output_tokens: 12, calls: 2 } },
    };
    await gw.pool.query(
      `update turns set status = 'ended', reason = 'completed', steps = 2, usage = $2,
              started_at = now() - interval '1 second', ended_at = now() where id = $1`,
      [turnId, JSON.stringify(usage)],
    );
    const ended = (await gw.call("GET", `/groups/${g.id}/turns/${turnId}/`, { token: owner.token })).json();
    expect(ended).toMatchObject({ status: "ended", reason: "completed", steps: 2, usage });
    expect(Date.parse(ended.ended_at)).toBeGreaterThan(Date.parse(ended.started_at));
  });

  it("404 for an unknown turn or a turn of another group; 422 for a malformed id", async () => {
    const { turnId } = await groupWithTurn();
    const other = await gw.group(owner);
    expect(
      (await gw.call("GET", `/groups/${other.id}/turns/${turnId}`, { token: owner.token })).statusCode,
    ).toBe(404);
    expect(
      (await gw.call("GET", `/groups/${other.id}/turns/${randomUUID()}`, { token: owner.token })).statusCode,
    ).toBe(404);
    const bad = await gw.call("GET", `/groups/${other.id}/turns/123`, { token: owner.token });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().detail).toContain("path.turn_id");
  });
});

describe("POST /groups/{id}/turns/{turn_id}/cancel", () => {
  it("202: the turn ends `cancelled`; turn.ended then _turn.cancelled are published; workers are told; the next turn is advanced", async () => {
    const { g, turnId } = await groupWithTurn();
    await gw.pool.query("update turns set status = 'running', started_at = now() where id = $1", [turnId]);
    const sub = gw.redis.duplicate();
    const frames: { channel: string; frame: unknown }[] = [];
    await sub.subscribe(groupChannel(gw.config.QUEUE_PREFIX, g.id), controlChannel(gw.config.QUEUE_PREFIX));
    sub.on("message", (channel, raw) => frames.push({ channel, frame: JSON.parse(raw) }));
    const advanceBefore = (await gw.queue.getJobs(["waiting", "delayed", "prioritized"])).filter(
      (j) => j.data.group_id === g.id,
    ).length;
    try {
      const res = await gw.call("POST", `/groups/${g.id}/turns/${turnId}/cancel`, {
        token: participant.token,
      });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toEqual({ id: turnId, status: "ended", reason: "cancelled" });
      await expect.poll(() => frames.length).toBe(3);
      const onGroup = frames.filter((f) => f.channel.endsWith(g.id)).map((f) => f.frame);
      expect(onGroup).toEqual([
        {
          type: "turn.ended",
          group_id: g.id,
          turn_id: turnId,
          reason: "cancelled",
          cancelled_by: participant.id,
        },
        { type: "_turn.cancelled", group_id: g.id, turn_id: turnId },
      ]);
    } finally {
      sub.disconnect();
    }
    expect(await gw.redis.get(cancelKey(gw.config.QUEUE_PREFIX, turnId))).toBe("1");
    const { rows } = await gw.pool.query("select status, reason, ended_at from turns where id = $1", [
      turnId,
    ]);
    expect(rows[0]).toMatchObject({ status: "ended", reason: "cancelled" });
    expect(rows[0].ended_at).not.toBeNull();
    // the canceller is kept, for clients that load the turn later
    const turn = await gw.call("GET", `/groups/${g.id}/turns/${turnId}`, { token: owner.token });
    expect(turn.json()).toMatchObject({ reason: "cancelled", cancelled_by: participant.id });
    const advanceAfter = (await gw.queue.getJobs(["waiting", "delayed", "prioritized"])).filter(
      (j) => j.name === "advance" && j.data.group_id === g.id,
    ).length;
    expect(advanceAfter).toBe(advanceBefore + 1);

    // cancelling again is a no-op: the first canceller stays
    const again = await gw.call("POST", `/groups/${g.id}/turns/${turnId}/cancel`, { token: owner.token });
    expect(again.statusCode).toBe(202);
    const still = await gw.call("GET", `/groups/${g.id}/turns/${turnId}`, { token: owner.token });
    expect(still.json().cancelled_by).toBe(participant.id);
  });

  it("a queued turn can be cancelled too; a turn that ended otherwise is 409 turn_ended", async () => {
    const { g, turnId } = await groupWithTurn();
    expect(
      (await gw.call("POST", `/groups/${g.id}/turns/${turnId}/cancel`, { token: owner.token })).statusCode,
    ).toBe(202);
    const done = await groupWithTurn();
    await gw.pool.query(
      "update turns set status = 'ended', reason = 'completed', ended_at = now() where id = $1",
      [done.turnId],
    );
    const res = await gw.call("POST", `/groups/${done.g.id}/turns/${done.turnId}/cancel`, {
      token: owner.token,
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe("turn_ended");
  });

  it("404 for a stranger, an unknown turn, or another group's turn", async () => {
    const { g, turnId } = await groupWithTurn();
    const stranger = await gw.user();
    const other = await gw.group(owner);
    expect(
      (await gw.call("POST", `/groups/${g.id}/turns/${turnId}/cancel`, { token: stranger.token })).statusCode,
    ).toBe(404);
    expect(
      (await gw.call("POST", `/groups/${other.id}/turns/${turnId}/cancel`, { token: owner.token }))
        .statusCode,
    ).toBe(404);
    expect(
      (await gw.call("POST", `/groups/${g.id}/turns/${randomUUID()}/cancel`, { token: owner.token }))
        .statusCode,
    ).toBe(404);
    const { rows } = await gw.pool.query("select status from turns where id = $1", [turnId]);
    expect(rows[0].status).toBe("queued");
  });
});
