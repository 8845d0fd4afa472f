import { createPool, jobIds, type LlmJob } from "@synapse/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testUrls } from "../../../../test/support/services.ts";
import { startTcpProxy, type TcpProxy } from "../../../../test/support/tcp-proxy.ts";
import { type Harness, startHarness, waitFor } from "../../test/harness.ts";

// the orchestrator reaches PostgreSQL through a proxy the test takes away; the test's reads do not
let proxy: TcpProxy;
let h: Harness;
let orchestratorPool: ReturnType<typeof createPool>;
beforeAll(async () => {
  const { databaseUrl } = testUrls();
  proxy = await startTcpProxy(Number(new URL(databaseUrl).port));
  orchestratorPool = createPool(proxy.urlFor(databaseUrl), { max: 20 });
  h = await startHarness({ orchestratorPool });
});
afterAll(async () => {
  await h?.close();
  await orchestratorPool?.end();
  await proxy?.close();
});

describe("a PostgreSQL outage outlasting a job's attempts", () => {
  it("ends the job's turn with error once the database is back, and the group's next turn runs", {
    timeout: 60_000,
  }, async () => {
    const g = await h.createGroup(["Alice"]);
    const held: LlmJob[] = [];
    h.scripts.set(g.groupId, (job) => {
      if (job.alias === "Alice") {
        held.push(job as LlmJob);
        return null; // its result is delivered by the test, during the outage
      }
      return { content: "TASK_COMPLETE" };
    });
    const first = await h.post(g, "@Alice hello");
    const alice = await waitFor(() => held[0]);
    const second = await h.post(g, "next please");

    await proxy.down();
    // the harness delivers with 5 attempts and a 100 ms exponential backoff: used up in about 1.5 s
    await h.deliver(alice, h.resultFor(alice, "llm", { content: "Alice's answer" }));
    await waitFor(
      async () => (await h.orchestratorQueue.getJobState(jobIds.result(alice.dispatch_id))) === "failed",
      15_000,
    );
    await new Promise((r) => setTimeout(r, 2_000));
    const during = await h.pool.query("select status from turns where id = $1", [first.turnId]);
    expect(during.rows[0].status).toBe("running");
    await proxy.up();
    const back = Date.now();

    const ended = await h.waitTurn(first.turnId, 20_000);
    expect(ended.reason).toBe("error");
    expect(Date.now() - back).toBeLessThan(15_000);
    const notice = (await h.messages(g.groupId)).find(
      (m) => m.turn_id === first.turnId && m.sender_type === "system",
    );
    expect(notice?.content).toContain("internal error");
    expect((await h.waitTurn(second.turnId, 20_000)).reason).toBe("completed");
  });
});
