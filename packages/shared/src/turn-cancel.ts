import type { Redis } from "ioredis";
import { type GroupFrame, groupChannel } from "./events.ts";

/** Redis key marking a cancelled turn, read by workers before and during a job. */
export function cancelKey(prefix: string, turnId: string): string {
  return `${prefix}:cancelled:${turnId}`;
}

/** Channel on which workers hear of cancels, to abort in-flight calls. */
export function controlChannel(prefix: string): string {
  return `${prefix}:control`;
}

/**
 * Tells every process that a turn is cancelled: the key for late starters, the control channel
 * for in-flight calls, and the group channel so gateways drop any frame of the turn sent after it.
 * With `ended` (the cancel has just ended the turn, committed), its `turn.ended` goes first, in the
 * same transaction, naming `by`, the user who cancelled it.
 */
export async function announceCancel(
  redis: Redis,
  prefix: string,
  groupId: string,
  turnId: string,
  opts: { ended?: boolean; by?: string } = {},
): Promise<void> {
  const tx = redis.multi();
  if (opts.ended)
    tx.publish(
      groupChannel(prefix, groupId),
      JSON.stringify({
        type: "turn.ended",
        group_id: groupId,
        turn_id: turnId,
        reason: "cancelled",
        ...(opts.by ? { cancelled_by: opts.by } : {}),
      } satisfies GroupFrame),
    );
  await tx
    .set(cancelKey(prefix, turnId), "1", "EX", 86_400)
    .publish(controlChannel(prefix), JSON.stringify({ type: "cancel", group_id: groupId, turn_id: turnId }))
    .publish(
      groupChannel(prefix, groupId),
      JSON.stringify({ type: "_turn.cancelled", group_id: groupId, turn_id: turnId }),
    )
    .exec();
}
