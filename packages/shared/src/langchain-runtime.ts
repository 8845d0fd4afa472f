import { AsyncLocalStorageProviderSingleton } from "@langchain/core/singletons";
import { getEnvironmentVariable } from "@langchain/core/utils/env";
import type { Logger } from "./logger.ts";

/** The variables any of which turns LangChain's tracing on (`isTracingEnabled` of @langchain/core). */
const LANGCHAIN_TRACING_VARIABLES = [
  "LANGSMITH_TRACING_V2",
  "LANGCHAIN_TRACING_V2",
  "LANGSMITH_TRACING",
  "LANGCHAIN_TRACING",
];

/** What {@link skipUntracedRunTrees} did. */
export type RunTreeSkip = "applied" | "tracing" | "unsupported";

type Provider = Pick<typeof AsyncLocalStorageProviderSingleton, "runWithConfig">;

/**
 * Whether `runWithConfig` still takes the flag the patch sets: its third parameter,
 * `avoidCreatingRootRunTree` (@langchain/core 1.4).
 */
export function takesRootRunTreeFlag(provider: Provider): boolean {
  return typeof provider.runWithConfig === "function" && provider.runWithConfig.length === 3;
}

let applied = false;

/**
 * The one patch of a library's internals that Synapse keeps: it stops LangChain from building an
 * unused LangSmith `RunTree` on every runnable call.
 *
 * `@langchain/core` wraps each runnable call (a dozen per LangGraph `invoke`, one per chat-model
 * call) in `runWithConfig`, which, when no tracer is attached, still builds a root `RunTree` (a
 * fresh UUIDv7, timestamps, environment reads) only to carry the config in AsyncLocalStorage.
 * `runWithConfig`'s own `avoidCreatingRootRunTree` flag skips it; LangGraph never passes it, so
 * this passes it on every call. It is worth a fifth of the turn bench's 50-group throughput
 * (docs/benchmarks.md, "Library patches").
 *
 * What changes: code running inside a runnable no longer finds an ambient config unless one was
 * passed or a tracer is attached. Synapse's graph node and provider calls receive their config
 * explicitly and never call `getConfig()`, `interrupt()` or a stream writer, which read it.
 * With LangSmith tracing on, in Synapse's configuration or in the environment as LangChain reads
 * it, nothing is changed. `langchain-runtime.test.ts` fails when the library changes under it.
 */
export function skipUntracedRunTrees(opts: { tracing: boolean }): RunTreeSkip {
  if (applied) return "applied";
  if (opts.tracing || LANGCHAIN_TRACING_VARIABLES.some((v) => getEnvironmentVariable(v) === "true"))
    return "tracing";
  const provider = AsyncLocalStorageProviderSingleton;
  if (!takesRootRunTreeFlag(provider)) return "unsupported";
  const runWithConfig = provider.runWithConfig.bind(provider);
  provider.runWithConfig = ((config, callback) =>
    runWithConfig(config, callback, true)) as typeof runWithConfig;
  applied = true;
  return "applied";
}

/** For a composition root: applies {@link skipUntracedRunTrees} and warns when it cannot. */
export function applyRunTreeSkip(opts: { tracing: boolean }, logger: Logger): void {
  if (skipUntracedRunTrees(opts) === "unsupported")
    logger.warn(
      "@langchain/core's runWithConfig no longer takes avoidCreatingRootRunTree: running without the RunTree skip (slower)",
    );
}
