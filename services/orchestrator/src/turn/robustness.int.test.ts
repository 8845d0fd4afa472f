import type { LlmJob } from "@synapse/shared";
import { jobIds } from "@synapse/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, waitFor } from "../../test/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { open, opened };
}

const llmJobs = (turnId: string) => h.jobs.filter((j) => j.data.turn_id === turnId && j.kind === "llm");

/** Every message id appears once in the group's messages. */
async function expectNoDuplicates(groupId: string) {
  const msgs = await h.messages(groupId);
  expect(new Set(msgs.map((m) => m.id)).size).toBe(msgs.length);
  const seqs = msgs.map((m) => m.seq);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  return msgs;
}

describe("gathering", () => {
  it("loses nothing and counts nothing twice when results arrive at once, and twice each", async () => {
    const g = await h.createGroup(["Alice", "Bob", "Carol"]);
    const held: LlmJob[] = [];
    h.scripts.set(g.groupId, async (job) => {
      if (job.alias === "Orchestrator") return { content: "TASK_COMPLETE" };
      held.push(job as LlmJob);
      if (held.length === 3) {
        // all three results at once, each delivered three times (same job id, and another job id)
        await Promise.all(
          held.flatMap((j) => {
            const r = h.resultFor(j, "llm", { content: `${j.alias} answer` });
            return [h.deliver(j, r), h.deliver(j, r, `dup-${j.dispatch_id}`), h.deliver(j, r)];
          }),
        );
      }
      return null;
    });
    const { turnId } = await h.post(g, "@Alice @Bob @Carol");
    const turn = await h.waitTurn(turnId);
    expect(turn).toMatchObject({ reason: "completed", steps: 4 });
    expect(llmJobs(turnId).filter((j) => j.data.alias === "Orchestrator")).toHaveLength(1);
    expect(turn.usage.by_agent).toMatchObject({
      Alice: { calls: 1 },
      Bob: { calls: 1 },
      Carol: { calls: 1 },
    });
    const msgs = await expectNoDuplicates(g.groupId);
    expect(
      msgs
        .map((m) => m.sender_alias)
        .slice(1, 4)
        .sort(),
    ).toEqual(["Alice", "Bob", "Carol"]);
    // let the duplicate deliveries be handled, then check each message was published exactly once
    await waitFor(
      async () => (await h.orchestratorQueue.getJobCounts("wait", "active", "delayed")).wait === 0,
    );
    await new Promise((r) => setTimeout(r, 200));
    const published = h.frames(g.groupId).flatMap((f) => (f.type === "message" ? [f.message.id] : []));
    expect(published.sort()).toEqual(msgs.map((m) => m.id).sort());
    const kinds = h.frames(g.groupId).filter((f) => f.type === "agent.finished");
    expect(kinds).toHaveLength(4);
  });

  it("a step failing after its side effects is retried with no duplicate message or job", async () => {
    const g = await h.createGroup(["Alice", "Bob"]);
    h.scripts.set(g.groupId, (job) => ({
      content: job.alias === "Orchestrator" ? "TASK_COMPLETE" : `${job.alias} ok`,
    }));
    let thrown = 0;
    h.faults.frame = (frame) => {
      // fail the step that gathers the wave, which dispatches the Orchestrator (its job is added)
      if (
        frame.type === "agent.started" &&
        frame.group_id === g.groupId &&
        frame.alias === "Orchestrator" &&
        thrown === 0
      ) {
        thrown += 1;
        throw new Error("injected: crash after dispatch");
      }
    };
    const { turnId } = await h.post(g, "@Alice @Bob");
    const turn = await h.waitTurn(turnId);
    h.faults.frame = undefined;
    expect(thrown).toBe(1);
    // the Orchestrator's result came before the failed step's retry had saved its dispatch: it waited
    expect(h.logs.some((l) => l.turn_id === turnId && l.status === "deferred")).toBe(true);
    expect(turn).toMatchObject({ reason: "completed", steps: 3 });
    expect(llmJobs(turnId)).toHaveLength(3);
    const msgs = await expectNoDuplicates(g.groupId);
    expect(msgs).toHaveLength(4);
  });

  it("a step that ends the turn and dies before announcing it all is finished by its retry", async () => {
    const g = await h.createGroup([]);
    h.scripts.set(g.groupId, () => ({ content: "bye TASK_COMPLETE" }));
    let thrown = 0;
    h.faults.frame = (frame) => {
      // the step's writes are committed; its turn.ended is not sent, the first time
      if (frame.type === "turn.ended" && frame.group_id === g.groupId && thrown++ === 0)
        throw new Error("injected: crash after commit, before turn.ended");
    };
    const { turnId } = await h.post(g, "hi");
    await waitFor(() => h.frames(g.groupId).some((f) => f.type === "turn.ended"));
    h.faults.frame = undefined;
    expect(thrown).toBe(2);
    expect((await h.waitTurn(turnId)).reason).toBe("completed");
    await new Promise((r) => setTimeout(r, 150));
    expect(h.frames(g.groupId).filter((f) => f.type === "turn.ended")).toHaveLength(1);
    expect(await expectNoDuplicates(g.groupId)).toHaveLength(2);
    await waitFor(
      async () =>
        (await h.pool.query("select 1 from graph_checkpoints where thread_id = $1", [turnId])).rowCount === 0,
    );
  });

  it("a step whose checkpoint is lost (a crash before it) is retried from the previous state", async () => {
    const g = await h.createGroup(["Alice", "Bob"]);
    h.scripts.set(g.groupId, (job) => {
      // the next checkpoint of this turn (the step handling the first answer) will not be written
      if (job.alias === "Alice") h.failNextCheckpoint(job.turn_id);
      return { content: job.alias === "Orchestrator" ? "TASK_COMPLETE" : `${job.alias} ok` };
    });
    const { turnId } = await h.post(g, "@Alice @Bob");
    const turn = await h.waitTurn(turnId);
    expect(h.pendingCheckpointFailures()).toBe(0);
    expect(turn).toMatchObject({ reason: "completed", steps: 3 });
    expect(llmJobs(turnId)).toHaveLength(3);
    expect(await expectNoDuplicates(g.groupId)).toHaveLength(4);
  });

  it("a turn start whose checkpoint is lost still runs once", async () => {
    const g = await h.createGroup([]);
    let first = true;
    h.faults.frame = (frame) => {
      // the start step announces its dispatch: its checkpoint, written after, is lost
      if (frame.type === "agent.started" && frame.group_id === g.groupId && first) {
        first = false;
        h.failNextCheckpoint(frame.turn_id);
      }
    };
    h.scripts.set(g.groupId, () => ({ content: "TASK_COMPLETE" }));
    const { turnId } = await h.post(g, "hi");
    const turn = await h.waitTurn(turnId);
    h.faults.frame = undefined;
    expect(first).toBe(false);
    expect(h.pendingCheckpointFailures()).toBe(0);
    expect(turn).toMatchObject({ reason: "completed", steps: 1 });
    expect(llmJobs(turnId)).toHaveLength(1);
    expect(await expectNoDuplicates(g.groupId)).toHaveLength(2);
    // turn.ended is published just after the commit that waitTurn saw: wait for it, then for a repeat
    await waitFor(() => h.frames(g.groupId).some((f) => f.type === "turn.ended"));
    await new Promise((r) => setTimeout(r, 150));
    expect(h.frames(g.groupId).filter((f) => f.type === "turn.ended")).toHaveLength(1);
  });

  it("a job that exhausts its attempts ends its turn with error and a notice", async () => {
    const g = await h.createGroup([]);
    h.scripts.set(g.groupId, () => ({ content: "TASK_COMPLETE" }));
    h.faults.statement = (text, values) => {
      // every step storing an agent's message fails in its transaction, having changed nothing
      if (
        text.includes("insert into messages") &&
        values.includes(g.groupId) &&
        values.some((v) => typeof v === "string" && v.includes('"sender_type":"agent"'))
      )
        throw new Error("injected: always failing");
    };
    const { turnId } = await h.post(g, "hi");
    const turn = await h.waitTurn(turnId, 20_000);
    h.faults.statement = undefined;
    expect(turn.reason).toBe("error");
    const msgs = await expectNoDuplicates(g.groupId);
    expect(msgs.at(-1)).toMatchObject({ sender_type: "system", turn_id: turnId });
    expect(msgs.at(-1)!.content).toContain("internal error");
  });
});

describe("turn order and cancel", () => {
  it("messages posted during a running turn start after it, in order, none dropped", async () => {
    const g = await h.createGroup([]);
    const release = gate();
    h.scripts.set(g.groupId, async () => {
      await release.opened;
      return { content: "TASK_COMPLETE" };
    });
    const t1 = await h.post(g, "first");
    await waitFor(() => llmJobs(t1.turnId).length === 1);
    const t2 = await h.post(g, "second");
    const t3 = await h.post(g, "third");
    await new Promise((r) => setTimeout(r, 100));
    const { rows } = await h.pool.query<{ id: string; status: string }>(
      "select id, status from turns where group_id = $1 order by message_seq",
      [g.groupId],
    );
    expect(rows.map((r) => r.status)).toEqual(["running", "queued", "queued"]);
    release.open();
    const ends = await Promise.all([t1, t2, t3].map((t) => h.waitTurn(t.turnId)));
    for (const e of ends) expect(e.reason).toBe("completed");
    expect(ends[0]!.ended_at! <= ends[1]!.started_at!).toBe(true);
    expect(ends[1]!.ended_at! <= ends[2]!.started_at!).toBe(true);
    const started = h.frames(g.groupId).flatMap((f) => (f.type === "turn.started" ? [f.turn_id] : []));
    expect(started).toEqual([t1.turnId, t2.turnId, t3.turnId]);
    const msgs = await h.messages(g.groupId);
    expect(msgs.filter((m) => m.sender_type === "user").map((m) => m.content)).toEqual([
      "first",
      "second",
      "third",
    ]);
  });

  it("bounds each call's context by the group's last seq at dispatch: a queued turn's reaches the end of the turn before", async () => {
    const g = await h.createGroup(["Alice"]);
    h.scripts.set(g.groupId, (job) => ({ content: job.alias === "Alice" ? "6*7 = 42" : "TASK_COMPLETE" }));
    const t1 = await h.post(g, "@Alice what is 6*7?", { advance: false });
    const t2 = await h.post(g, "and then summarise", { advance: false });
    await h.orchestratorQueue.add("advance", { group_id: g.groupId });
    await h.waitTurn(t2.turnId);
    const msgs = await h.messages(g.groupId);
    const seqOf = (id: string) => msgs.find((m) => m.id === id)!.seq;
    const [alice, orch] = llmJobs(t1.turnId).map((j) => j.data as LlmJob);
    // the later turn's message is within the bound; the context read leaves it out while it is queued
    expect(alice!.until_seq).toBe(seqOf(t2.messageId));
    expect(orch!.until_seq).toBe(seqOf(alice!.message_id));
    const [later] = llmJobs(t2.turnId).map((j) => j.data as LlmJob);
    expect(later!.until_seq).toBe(seqOf(orch!.message_id));
    const { rows } = await h.pool.query<{ start_seq: number }>("select start_seq from turns where id = $1", [
      t2.turnId,
    ]);
    expect(rows[0]!.start_seq).toBe(seqOf(orch!.message_id));
  });

  it("stores and publishes nothing of a cancelled turn after the cancel, and starts the next one", async () => {
    const g = await h.createGroup(["Alice"]);
    const release = gate();
    h.scripts.set(g.groupId, async (job) => {
      if (job.alias === "Alice") {
        await release.opened;
        return { content: "too late @Orchestrator", tool_calls: [{ id: "t", name: "calculator" }] };
      }
      return { content: "TASK_COMPLETE" };
    });
    const t1 = await h.post(g, "@Alice");
    await waitFor(() => llmJobs(t1.turnId).length === 1);
    const t2 = await h.post(g, "next");
    await h.cancel(g, t1.turnId);
    // the cancel's own frames (turn.ended, then _turn.cancelled) reach the recorder asynchronously
    await waitFor(() =>
      h.frames(g.groupId).some((f) => f.type === "_turn.cancelled" && f.turn_id === t1.turnId),
    );
    const cancelledAt = h.frames(g.groupId).length;
    release.open();
    const aliceJob = llmJobs(t1.turnId)[0]!.data;
    await waitFor(
      async () =>
        (await h.orchestratorQueue.getJobState(jobIds.result(aliceJob.dispatch_id))) === "completed",
    );
    expect(await h.waitTurn(t2.turnId)).toMatchObject({ reason: "completed" });
    const t1row = await h.waitTurn(t1.turnId);
    expect(t1row.reason).toBe("cancelled");
    const msgs = await h.messages(g.groupId);
    expect(msgs.some((m) => m.id === aliceJob.message_id)).toBe(false);
    expect(msgs.filter((m) => m.turn_id === t1.turnId).map((m) => m.sender_type)).toEqual(["user"]);
    expect(h.jobs.some((j) => j.data.turn_id === t1.turnId && j.kind === "tool")).toBe(false);
    const after = h.frames(g.groupId).slice(cancelledAt);
    expect(
      after.filter(
        (f) => (f.type === "message" ? f.message.turn_id : "turn_id" in f ? f.turn_id : null) === t1.turnId,
      ),
    ).toEqual([]);
    const { rows } = await h.pool.query("select 1 from graph_checkpoints where thread_id = $1", [t1.turnId]);
    expect(rows).toHaveLength(0);
  });
});
