import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { testResources } from "../../../test/support/services.ts";
import { loadCallContext } from "./agents.ts";
import { addMessage, addTurn, seedGroup } from "./test-fixtures.ts";

const res = testResources();
afterAll(() => res.close());

const loadWindow = async (groupId: string, untilSeq: number, limit: number) =>
  (await loadCallContext(res.pool, { group_id: groupId, turn_id: randomUUID(), until_seq: untilSeq }, limit))
    .window;

describe("loadCallContext", () => {
  it("reads the team (Orchestrator first) and the turn's status with the window", async () => {
    const g = await seedGroup(res.pool, { agents: [{ alias: "Writer" }] });
    const m = await addMessage(res.pool, g, { content: "hi" });
    const turnId = randomUUID();
    await addTurn(res.pool, g, m, { id: turnId, status: "running" });
    const ctx = await loadCallContext(res.pool, { group_id: g.groupId, turn_id: turnId, until_seq: 1 }, 40);
    expect(ctx.turnStatus).toBe("running");
    expect(ctx.team.map((a) => [a.alias, a.is_orchestrator, a.tools])).toEqual([
      [g.orchestrator.alias, true, g.orchestrator.tools],
      ["Writer", false, g.agents[0]!.tools],
    ]);
    expect(ctx.team[0]).toMatchObject({
      id: g.orchestrator.id,
      provider: g.orchestrator.provider,
      temperature: g.orchestrator.temperature,
    });
    expect(ctx.window).toEqual([
      expect.objectContaining({ id: m.id, seq: 1, content: "hi", sender_type: "user", tool_calls: null }),
    ]);
    const gone = await loadCallContext(
      res.pool,
      { group_id: g.groupId, turn_id: randomUUID(), until_seq: 1 },
      40,
    );
    expect(gone.turnStatus).toBeNull();
  });

  it("leaves out the messages of turns still queued behind the running one", async () => {
    const g = await seedGroup(res.pool);
    const [running, queued] = [randomUUID(), randomUUID()];
    const first = await addMessage(res.pool, g, { content: "question", turn_id: running });
    await addTurn(res.pool, g, first, { id: running, status: "running" });
    const later = await addMessage(res.pool, g, { content: "posted meanwhile", turn_id: queued });
    await addTurn(res.pool, g, later, { id: queued, status: "queued" });
    await addMessage(res.pool, g, {
      content: "answer",
      turn_id: running,
      sender_type: "agent",
      sender_alias: "Orchestrator",
    });

    const window = await loadWindow(g.groupId, 3, 40);
    expect(window.map((m) => m.content)).toEqual(["question", "answer"]);

    // once that turn runs, its message is part of the history again
    await res.pool.query("update turns set status = 'ended', reason = 'completed' where id = $1", [running]);
    await res.pool.query("update turns set status = 'running' where id = $1", [queued]);
    expect((await loadWindow(g.groupId, 3, 40)).map((m) => m.content)).toEqual([
      "question",
      "posted meanwhile",
      "answer",
    ]);
    expect((await loadWindow(g.groupId, 3, 2)).map((m) => m.seq)).toEqual([2, 3]);
  });
});
