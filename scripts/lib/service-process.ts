/**
 * The Node options a service process runs with, wherever it is started (`npm start`, the benches,
 * the end-to-end tests; `package.json`'s `start:*` scripts and the Dockerfile spell them out too):
 * - `--max-semi-space-size=32`: a young generation of up to 32 MiB per semi-space instead of 16.
 *   Turn steps allocate many short-lived objects (LangGraph, the SDK clients, pg and Redis parsing),
 *   and each scavenge pauses a service for 3–6 ms; with the larger space there were 30% fewer of
 *   them (docs/library-notes.md), for at most 32 MiB more memory per process.
 * - `--import tsx`: the TypeScript sources run as they are.
 */
export const SERVICE_NODE_ARGS: readonly string[] = ["--max-semi-space-size=32", "--import", "tsx"];
