import { jobIds } from "@synapse/shared";

/**
 * BullMQ 6.7 rejects a custom job id containing ':' unless it has exactly three ':'-separated parts
 * ("Custom Id cannot contain :"), so the shared `jobIds` (`llm:<uuid>`) cannot be used as they are.
 * The ':' becomes '-' (the execution worker does the same for `result` ids); an id BullMQ accepts is
 * kept unchanged, so this is a no-op once the shared ids are fixed.
 */
export function bullmqSafe(id: string): string {
  return id.includes(":") && id.split(":").length !== 3 ? id.replaceAll(":", "-") : id;
}

/** Job ids of the execution jobs of a dispatch, and of the `result` job that answers it. */
export const executionJobIds = {
  llm: (dispatchId: string) => bullmqSafe(jobIds.llm(dispatchId)),
  tool: (dispatchId: string) => bullmqSafe(jobIds.tool(dispatchId)),
  result: (dispatchId: string) => bullmqSafe(jobIds.result(dispatchId)),
} as const;
