import { v5 } from "uuid";

/**
 * Namespace of every id the orchestrator derives (a fixed random UUID). Never change it: turns in
 * flight across an upgrade must derive the same ids as before.
 */
const NAMESPACE = "6f1c2b9e-4d7a-4e0f-9b3c-8a5d2e1f0a7b";

/**
 * A name-based UUID (version 5). The same name always gives the same id, so a retried step adds
 * the same jobs and stores the same messages.
 */
export function uuidFromName(name: string): string {
  return v5(name, NAMESPACE);
}

/**
 * Id of the `index`-th call dispatched while handling `cause` (the turn start, or the dispatch whose
 * result was being handled). It names the execution job, the `result` job and the message the
 * call's answer is stored as. Deriving it from the cause rather than from a step counter keeps it
 * stable when a failed step is retried after other results of the turn were handled meanwhile.
 */
export function dispatchId(turnId: string, cause: string, index: number): string {
  return uuidFromName(`${turnId}:dispatch:${cause}:${index}`);
}

/** Id of a system notice of a turn (`what` says which: "max_steps", "stalled", ...). */
export function noticeId(turnId: string, what: string): string {
  return uuidFromName(`${turnId}:notice:${what}`);
}
