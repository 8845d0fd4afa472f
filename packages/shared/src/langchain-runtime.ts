import { AsyncLocalStorageProviderSingleton } from "@langchain/core/singletons";

let installed = false;

/**
 * Stops LangChain from building an unused LangSmith `RunTree` on every runnable call.
 *
 * `@langchain/core` 1.4 wraps each runnable call (about 13 per LangGraph `invoke`) in
 * `runWithConfig`, which, when no tracer is attached, still builds a root `RunTree` (with a fresh
 * UUIDv7 and two timestamps) only to carry the config in AsyncLocalStorage. Measured here: 0.42 of
 * the 1.27 ms one turn-graph step costs (`runWithConfig`'s own `avoidCreatingRootRunTree` flag,
 * which LangGraph never passes, skips it).
 *
 * What changes: code running inside a runnable no longer finds an ambient config unless one was
 * passed or a tracer is attached. Synapse's graph node and provider calls receive their config
 * explicitly and never call `getConfig()`, `interrupt()` or a stream writer, which read it.
 * With LangSmith tracing on (`config.LANGSMITH_TRACING`) nothing is changed.
 * @returns whether the calls now skip the RunTree
 */
export function skipUntracedRunTrees(opts: { tracing: boolean }): boolean {
  if (installed) return true;
  if (opts.tracing) return false;
  const provider = AsyncLocalStorageProviderSingleton;
  const runWithConfig = provider.runWithConfig.bind(provider);
  provider.runWithConfig = ((config, callback) =>
    runWithConfig(config, callback, true)) as typeof runWithConfig;
  installed = true;
  return true;
}
