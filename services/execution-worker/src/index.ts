export type { AgentRow } from "./agents.ts";
export type { ProviderContext, ProviderFactory } from "./providers/types.ts";
export { type ExecutionWorker, type ExecutionWorkerDeps, startExecutionWorker } from "./worker.ts";
