import path from "node:path";
import { AIMessageChunk } from "@langchain/core/messages";
import { FakeStreamingChatModel } from "@langchain/core/utils/testing";
import { createPool, jobIds } from "@synapse/shared";
import { afterAll, describe, expect, it } from "vitest";
import { spawnScript, stdoutMatch, stopChild } from "../../../test/support/child-process.ts";
import { testConfig, testResources, testUrls } from "../../../test/support/services.ts";
import { addMessage, llmJob, QueueDriver, seedGroup, startWorkerUnderTest } from "../test/fixtures.ts";
import { connectWorkerRedis, startExecutionWorker } from "./worker.ts";

const workerProcess = path.join(import.meta.dirname, "../test/worker-process.ts");

const res = testResources();
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers) await c().catch(() => undefined);
  await res.close();
});

describe("crash recovery", () => {
  it("a job whose worker died is picked up by another one (stalled-job recovery)", {
    timeout: 45_000,
  }, async () => {
    const config = testConfig({ LLM_TIMEOUT_MS: "60000" });
    // worker A, in a process of its own, takes the job; its model never answers, and it is killed
    const a = spawnScript("execution-worker", workerProcess, config, {
      LLM_TIMEOUT_MS: String(config.LLM_TIMEOUT_MS),
    });
    closers.push(() => stopChild(a, "SIGKILL"));
    const started = stdoutMatch(a, /\{"started":true\}/);
    const driver = new QueueDriver(testUrls().redisUrl, config.QUEUE_PREFIX);
    closers.push(() => driver.close());
    const g = await seedGroup(res.pool, { agents: [{ alias: "Flaky", provider: "flaky", model: "m" }] });
    const m = await addMessage(res.pool, g, { content: "hi" });
    const job = llmJob(g, g.agents[0]!, m.seq);
    await driver.addLlm(job);
    await started;
    await stopChild(a, "SIGKILL"); // no more lock renewals: the process is gone

    const bConnections = connectWorkerRedis(testUrls().redisUrl);
    const b = await startExecutionWorker({
      config,
      pool: res.pool,
      connections: bConnections,
      providers: {
        flaky: () => new FakeStreamingChatModel({ sleep: 1, chunks: [new AIMessageChunk("recovered")] }),
      },
    });
    closers.push(async () => {
      await b.close();
      await bConnections.close();
    });
    const out = await driver.result(job.dispatch_id, 30_000);
    expect(out.result).toMatchObject({ kind: "llm", content: "recovered" });
  });

  it("a job that fails on its last attempt still hands the orchestrator an llm_error", async () => {
    const config = testConfig();
    const deadPool = createPool("postgres://nobody@127.0.0.1:1/none", { max: 1 });
    closers.push(() => deadPool.end());
    const w = await startWorkerUnderTest(deadPool, config);
    closers.push(() => w.close());
    const { driver } = w;
    const g = await seedGroup(res.pool, { agents: [{ alias: "A" }] });
    const job = llmJob(g, g.agents[0]!, 0);
    await driver.exec.add("llm", job, { jobId: jobIds.llm(job.dispatch_id), attempts: 1 });
    const out = await driver.result(job.dispatch_id);
    expect(out.result).toMatchObject({ kind: "llm_error", error: { code: "worker_error" } });
    expect(await driver.settled("llm", job.dispatch_id)).toBe("failed");
  });
});
