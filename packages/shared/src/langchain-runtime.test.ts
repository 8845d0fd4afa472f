import { RunnableLambda } from "@langchain/core/runnables";
import { AsyncLocalStorageProviderSingleton } from "@langchain/core/singletons";
import { MemorySaver, START, StateGraph, StateSchema } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { skipUntracedRunTrees, takesRootRunTreeFlag } from "./langchain-runtime.ts";

/** What a runnable sees of its context: the config passed to it, and whether a RunTree was built around it. */
async function probe() {
  const lambda = RunnableLambda.from(async (_input: number, config) => ({
    thread: config?.configurable?.thread_id as string | undefined,
    runTree: AsyncLocalStorageProviderSingleton.getInstance().getStore()?.constructor?.name,
  }));
  return lambda.invoke(1, { configurable: { thread_id: "t1" } });
}

describe("skipUntracedRunTrees", () => {
  it("changes nothing while LangChain's own variables switch tracing on, whatever the config says", () => {
    process.env.LANGCHAIN_TRACING = "true";
    try {
      expect(skipUntracedRunTrees({ tracing: false })).toBe("tracing");
    } finally {
      delete process.env.LANGCHAIN_TRACING;
    }
  });

  it("changes nothing while LangSmith tracing is switched on", async () => {
    expect(skipUntracedRunTrees({ tracing: true })).toBe("tracing");
    expect(await probe()).toEqual({ thread: "t1", runTree: "RunTree" });
  });

  it("drops the untraced RunTree; configs still reach runnables and graphs still run", async () => {
    expect(AsyncLocalStorageProviderSingleton.runWithConfig).toHaveLength(3);
    expect(skipUntracedRunTrees({ tracing: false })).toBe("applied");
    expect(await probe()).toEqual({ thread: "t1", runTree: undefined });

    const State = new StateSchema({ n: z.number() });
    const graph = new StateGraph(State)
      .addNode("inc", (s) => ({ n: s.n + 1 }))
      .addEdge(START, "inc")
      .compile({ checkpointer: new MemorySaver() });
    const config = { configurable: { thread_id: "g1" } };
    expect(await graph.invoke({ n: 1 }, config)).toEqual({ n: 2 });
    expect((await graph.getState(config)).values).toEqual({ n: 2 });
  });

  it("finds out when runWithConfig no longer takes the flag it sets", () => {
    const provider = (f: unknown) => ({ runWithConfig: f }) as Parameters<typeof takesRootRunTreeFlag>[0];
    expect(takesRootRunTreeFlag(provider((_c: unknown, cb: () => unknown, _avoid?: boolean) => cb()))).toBe(
      true,
    );
    expect(takesRootRunTreeFlag(provider((_c: unknown, cb: () => unknown) => cb()))).toBe(false);
    expect(takesRootRunTreeFlag(provider(undefined))).toBe(false);
  });
});
