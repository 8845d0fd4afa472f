import { createHash } from "node:crypto";

/** Namespace of every id the orchestrator derives (a fixed random UUID, as RFC 9562 §5.5 wants). */
const NAMESPACE = Buffer.from("6f1c2b9e4d7a4e0f9b3c8a5d2e1f0a7b", "hex");

/**
 * A name-based UUID (version 5: SHA-1 of a namespace and `name`). The same name always gives the
 * same id, so a retried step adds the same jobs and stores the same messages.
 */
export function uuidFromName(name: string): string {
  const hash = createHash("sha1").update(NAMESPACE).update(name, "utf8").digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
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
