import path from "node:path";

/** A Synapse service process. */
export type ServiceName = "gateway" | "orchestrator" | "execution-worker";

const root = path.resolve(import.meta.dirname, "../..");

/** The composition root (`main.ts`) of each service, from the repository root. */
const MAIN: Record<ServiceName, string> = {
  gateway: "services/api-gateway/src/main.ts",
  orchestrator: "services/orchestrator/src/main.ts",
  "execution-worker": "services/execution-worker/src/main.ts",
};

/** The absolute path of a service's `main.ts`. */
export function serviceMain(service: ServiceName): string {
  return path.join(root, MAIN[service]);
}

/**
 * The Node options a service process runs with, wherever it is started (`npm start`, the benches,
 * the end-to-end tests; `package.json`'s `start:*` scripts spell them out too and must say the same):
 * - `--import tsx`: the TypeScript sources run as they are;
 * - for the orchestrator and the execution worker, `--max-semi-space-size=32`: a young generation
 *   of up to 32 MiB per semi-space instead of 16. Turn steps allocate many short-lived objects
 *   (LangGraph, the SDK clients, pg and Redis parsing) and each scavenge pauses the service: the
 *   larger space makes them fewer (docs/library-notes.md). Not for the gateway: there it only adds
 *   RSS to every idle WebSocket (`npm run bench -- ws`).
 */
export function serviceNodeArgs(service: ServiceName): string[] {
  const heap = service === "gateway" ? [] : ["--max-semi-space-size=32"];
  return [...heap, "--import", "tsx"];
}

/** The arguments of `node` (process.execPath) that run a service: its options, then its `main.ts`. */
export function serviceArgs(service: ServiceName): string[] {
  return [...serviceNodeArgs(service), serviceMain(service)];
}

/**
 * The metrics port of each service of one machine's stack (`npm start`), from `METRICS_PORT`: the
 * orchestrator takes it and the worker the next one, as two processes cannot listen on one port.
 * The gateway serves `/metrics` on its own port. Undefined when `METRICS_PORT` is unset.
 */
export function localMetricsPorts(
  metricsPort: number | undefined,
): { orchestrator: number; worker: number } | undefined {
  return metricsPort === undefined ? undefined : { orchestrator: metricsPort, worker: metricsPort + 1 };
}
