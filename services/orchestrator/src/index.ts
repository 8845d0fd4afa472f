export { TurnCheckpointSaver } from "./graph/pg-saver.ts";
export { route } from "./graph/router.ts";
export type { TurnEvent, TurnState } from "./graph/state.ts";
export { type Orchestrator, type OrchestratorDeps, startOrchestrator } from "./orchestrator.ts";
