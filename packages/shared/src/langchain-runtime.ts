import { AsyncLocalStorageProviderSingleton } from "@langchain/core/singletons";
import { getEnvironmentVariable } from "@langchain/core/utils/env";

/** The variables any of which turns LangChain's tracing on (`isTracingEnabled`, @langchain/core 1.4). */
const LANGCHAIN_TRACING_VARIABLES = [
  "LANGSMITH_TRACING_V2",
  "LANGCHAIN_TRACING_V2",
  "LANGSMITH_TRACING",
  "LANGCHAIN_TRACING",
];

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
 * With LangSmith tracing on nothing is changed: on in Synapse's configuration
 * (`config.LANGSMITH_TRACING`), or in the environment as LangChain itself reads it (any of its
 * four variables "true", which the configuration's stricter reading may have overruled).
 * @returns whether the calls now skip the RunTree
 */
export function skipUntracedRunTrees(opts: { tracing: boolean }): boolean {
  if (installed) return true;
  if (opts.tracing || LANGCHAIN_TRACING_VARIABLES.some((v) => getEnvironmentVariable(v) === "true"))
    return false;
  const provider = AsyncLocalStorageProviderSingleton;
  const runWithConfig = provider.runWithConfig.bind(provider);
  provider.runWithConfig = ((config, callback) =>
    runWithConfig(config, callback, true)) as typeof runWithConfig;
  installed = true;
  return true;
}
