import { AsyncLocalStorageProviderSingleton } from "@langchain/core/singletons";

const TRACING_VARIABLES = [
  "LANGSMITH_TRACING",
  "LANGSMITH_TRACING_V2",
  "LANGCHAIN_TRACING",
  "LANGCHAIN_TRACING_V2",
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
 * explicitly and never call `getConfig()`, `interrupt()` or a stream writer, which read it. When
 * LangSmith tracing is switched on by its environment variables nothing is changed.
 */
export function skipUntracedRunTrees(env: NodeJS.ProcessEnv = process.env): boolean {
  if (installed) return true;
  if (TRACING_VARIABLES.some((name) => env[name] === "true")) return false;
  const provider = AsyncLocalStorageProviderSingleton;
  const runWithConfig = provider.runWithConfig.bind(provider);
  provider.runWithConfig = ((config, callback) =>
    runWithConfig(config, callback, true)) as typeof runWithConfig;
  installed = true;
  return true;
}
