import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { testResources } from "../../../test/support/services.ts";
import { addMessage, addTurn, seedGroup } from "../test/fixtures.ts";
import { loadCallContext } from "./agents.ts";

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

  it("places a message that waited in the queue after the turn it waited for, in every call of its turn", async () => {
    const g = await seedGroup(res.pool);
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const say = (content: string, turn_id: string, sender_alias = "Orchestrator") =>
      addMessage(res.pool, g, { content, turn_id, sender_type: "agent", sender_alias });
    // as the orchestrator starts a turn: at the group's last seq
    const start = (id: string) =>
      res.pool.query(
        `update turns set status = 'running', start_seq = (select last_seq from groups where id = $2) where id = $1`,
        [id, g.groupId],
      );
    const end = (id: string) =>
      res.pool.query("update turns set status = 'ended', reason = 'completed' where id = $1", [id]);
    const ask = async (content: string, id: string) =>
      addTurn(res.pool, g, await addMessage(res.pool, g, { content, turn_id: id }), { id, status: "queued" });
    const contents = async (untilSeq: number, limit = 40) =>
      (await loadWindow(g.groupId, untilSeq, limit)).map((m) => m.content);

    await ask("A", a); // 1
    await start(a);
    await say("a1", a, "Alice"); // 2
    await ask("B", b); // 3, queued
    await ask("C", c); // 4, queued
    await say("a2", a, "Alice"); // 5
    await say("a-final", a); // 6
    await end(a);
    await start(b);
    expect(await contents(6)).toEqual(["A", "a1", "a2", "a-final", "B"]);
    // placed after its seq, it is still among the last two
    expect(await contents(6, 2)).toEqual(["a-final", "B"]);
    await say("b1", b, "Alice"); // 7
    expect(await contents(7)).toEqual(["A", "a1", "a2", "a-final", "B", "b1"]);
    expect(await contents(7, 2)).toEqual(["B", "b1"]);
    await say("b-final", b); // 8
    await end(b);
    await start(c);
    expect(await contents(8)).toEqual(["A", "a1", "a2", "a-final", "B", "b1", "b-final", "C"]);
    expect(await contents(8, 3)).toEqual(["b1", "b-final", "C"]);
    expect(await contents(8, 5)).toEqual(["a-final", "B", "b1", "b-final", "C"]);
  });
});
