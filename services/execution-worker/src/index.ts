export type { AgentRow } from "./agents.ts";
export type { ProviderContext, ProviderFactory } from "./providers/types.ts";
export {
  connectWorkerRedis,
  type ExecutionWorker,
  type ExecutionWorkerDeps,
  startExecutionWorker,
  type WorkerRedis,
} from "./worker.ts";
