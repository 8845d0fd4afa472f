import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, waitFor } from "../../test/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { TURN_STALL_TIMEOUT_MS: "1000" } });
});
afterAll(async () => {
  await h?.close();
});

describe("sweeper", () => {
  it("starts a queued turn whose advance was never enqueued", async () => {
    const g = await h.createGroup([]);
    h.scripts.set(g.groupId, () => ({ content: "TASK_COMPLETE" }));
    const { turnId } = await h.post(g, "hi", { advance: false });
    await new Promise((r) => setTimeout(r, 150));
    const { rows } = await h.pool.query<{ status: string }>("select status from turns where id = $1", [
      turnId,
    ]);
    expect(rows[0]!.status).toBe("queued");
    await h.orchestrator.sweep({ groupIds: [g.groupId] });
    expect(await h.waitTurn(turnId)).toMatchObject({ reason: "completed" });
  });

  it("ends a turn that makes no progress with error and a notice, then starts the next", async () => {
    const g = await h.createGroup(["Alice"]);
    // Alice's call is lost: no result ever comes
    h.scripts.set(g.groupId, (job) => (job.alias === "Alice" ? null : { content: "TASK_COMPLETE" }));
    const t1 = await h.post(g, "@Alice");
    await waitFor(() => h.jobs.some((j) => j.data.turn_id === t1.turnId));
    const t2 = await h.post(g, "after");
    await h.orchestrator.sweep({ groupIds: [g.groupId] });
    const { rows } = await h.pool.query<{ status: string }>("select status from turns where id = $1", [
      t1.turnId,
    ]);
    expect(rows[0]!.status).toBe("running"); // not stale yet
    await new Promise((r) => setTimeout(r, 1100));
    await h.orchestrator.sweep({ groupIds: [g.groupId] });
    const turn = await h.waitTurn(t1.turnId);
    expect(turn.reason).toBe("error");
    const msgs = await h.messages(g.groupId);
    const notice = msgs.find((m) => m.turn_id === t1.turnId && m.sender_type === "system");
    expect(notice).toMatchObject({ sender_alias: "system", content: expect.stringContaining("no progress") });
    expect(await h.waitTurn(t2.turnId)).toMatchObject({ reason: "completed" });
    const ended = h.frames(g.groupId).filter((f) => f.type === "turn.ended" && f.turn_id === t1.turnId);
    expect(ended).toEqual([{ type: "turn.ended", group_id: g.groupId, turn_id: t1.turnId, reason: "error" }]);
    const { rows: cp } = await h.pool.query("select 1 from graph_checkpoints where thread_id = $1", [
      t1.turnId,
    ]);
    expect(cp).toHaveLength(0);
  });
});
