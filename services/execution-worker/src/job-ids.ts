import { jobIds } from "@synapse/shared";

/**
 * BullMQ 6.7 rejects a custom job id with a ':' unless it has exactly three ':'-separated parts
 * ("Custom Id cannot contain :"), so the shared `jobIds` (`result:<uuid>`, `llm:<uuid>`) cannot be
 * added as they are. Until the shared contract changes, the ':' becomes '-'; an id BullMQ accepts
 * is used unchanged, so this is a no-op once the shared ids are fixed.
 */
export function bullmqSafe(id: string): string {
  return id.includes(":") && id.split(":").length !== 3 ? id.replaceAll(":", "-") : id;
}

/** The id of the orchestrator `result` job of a dispatch. */
export const resultJobId = (dispatchId: string) => bullmqSafe(jobIds.result(dispatchId));
