import type { Message } from "@synapse/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  agentOf,
  type FrameLog,
  isFrame,
  openSocket,
  type Stack,
  spawnService,
  startStack,
} from "./stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ noOrchestrator: true });
});
afterAll(async () => {
  await stack?.close();
});

const GROUPS = 12;

describe("an orchestrator process killed while turns are in flight", () => {
  it("every turn completes on a new orchestrator; each message is stored and delivered once", {
    timeout: 90_000,
  }, async () => {
    stack.fake.respond((req) => {
      if (agentOf(req.system) === "Writer") return { text: "written" };
      const answered = req.messages.at(-1)?.content.includes("written");
      return { text: answered ? "Done. TASK_COMPLETE" : "@[Writer] go" };
    });
    const owner = await stack.user();
    const groups: { id: string; live: FrameLog }[] = [];
    for (let i = 0; i < GROUPS; i++) {
      const group = await stack.group(owner.token, `oc${i}`, ["Writer"]);
      groups.push({ id: group.id, live: await openSocket(stack, group.id, owner.token) });
    }

    const { child, exited } = spawnService(stack, "orchestrator");
    try {
      // two turns per group, the second queued behind the first: steps run back to back
      const posts = groups.flatMap((g) =>
        ["first", "second"].map((content) =>
          stack.api<Message>("POST", `/groups/${g.id}/messages`, { token: owner.token, body: { content } }),
        ),
      );
      const posted = await Promise.all(posts);
      for (const p of posted) expect(p.status).toBe(202);
      // killed once some steps are done and many are in flight
      const deadline = Date.now() + 20_000;
      for (;;) {
        const { rows } = await stack.pool.query<{ n: number }>(
          "select count(*)::int as n from messages where group_id = any($1) and sender_type = 'agent'",
          [groups.map((g) => g.id)],
        );
        if (rows[0]!.n >= GROUPS || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      child.kill("SIGKILL");
      await exited;
      const { rows: done } = await stack.pool.query<{ n: number }>(
        "select count(*)::int as n from turns where group_id = any($1) and status = 'ended'",
        [groups.map((g) => g.id)],
      );
      // the kill came mid-way: a new orchestrator has work left
      expect(done[0]!.n).toBeLessThan(2 * GROUPS);

      await stack.startOrchestrator();
      // every turn's end, as its group's socket hears it (published after its commit)
      await Promise.all(
        posted.map((p, i) =>
          groups[Math.floor(i / 2)]!.live.waitFor(
            isFrame("turn.ended", (f) => f.turn_id === p.body.turn_id),
            45_000,
          ),
        ),
      );

      for (const g of groups) {
        const turns = await stack.pool.query<{ id: string; reason: string }>(
          "select id, reason from turns where group_id = $1 order by message_seq",
          [g.id],
        );
        expect(turns.rows.map((t) => t.reason)).toEqual(["completed", "completed"]);
        const stored = (
          await stack.api<Message[]>("GET", `/groups/${g.id}/messages?limit=200`, { token: owner.token })
        ).body;
        // each turn: its question, the Orchestrator, the Writer, the Orchestrator; nothing twice
        for (const t of turns.rows)
          expect(stored.filter((m) => m.turn_id === t.id).map((m) => m.sender_alias)).toEqual([
            owner.email,
            "Orchestrator",
            "Writer",
            "Orchestrator",
          ]);
        expect(stored.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
        // the socket got every stored message once, in order, and each turn's end once
        await g.live.waitFor(
          isFrame("message", (f) => f.message.seq === 8),
          10_000,
        );
        const seen = g.live.frames.flatMap((f) => (f.type === "message" ? [f.message.id] : []));
        expect(seen).toEqual(stored.map((m) => m.id));
        const ends = g.live.frames.flatMap((f) => (f.type === "turn.ended" ? [f.turn_id] : []));
        expect(ends.sort()).toEqual(turns.rows.map((t) => t.id).sort());
      }
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      for (const g of groups) g.live.close();
    }
  });
});
