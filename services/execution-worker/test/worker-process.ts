/**
 * An execution worker in a process of its own whose model never answers, for the crash-recovery
 * test: `tsx worker-process.ts` with DATABASE_URL, REDIS_URL, QUEUE_PREFIX and SECRET_KEY in the
 * environment. Its agents of provider `flaky` get a model that sleeps for minutes before each
 * character; it prints `{"started":true}` on stdout when such a model is made, then waits to be killed.
 */
import { AIMessage } from "@langchain/core/messages";
import { FakeStreamingChatModel } from "@langchain/core/utils/testing";
import { createPool, loadConfig, requireUrls } from "@synapse/shared";
import { connectWorkerRedis, startExecutionWorker } from "../src/worker.ts";

const config = loadConfig();
const { databaseUrl, redisUrl } = requireUrls(config);
const pool = createPool(databaseUrl, { max: 2, applicationName: "worker-process" });
await startExecutionWorker({
  config,
  pool,
  connections: connectWorkerRedis(redisUrl),
  concurrency: 1,
  providers: {
    flaky: () => {
      process.stdout.write(`${JSON.stringify({ started: true })}\n`);
      // without `chunks` the fake sleeps before each character: it never answers in time
      return new FakeStreamingChatModel({ sleep: 120_000, responses: [new AIMessage("never")] });
    },
  },
});
