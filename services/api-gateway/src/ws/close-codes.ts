/**
 * Close codes the gateway uses on `/ws/{group_id}`. Clients can tell from the code whether to
 * reconnect, and how.
 */
export const CloseCode = {
  /** Server shutting down: reconnect (to another instance) with `?after=<last seq>`. */
  goingAway: 1001,
  /** A frame larger than the accepted maximum (set by `ws` itself through `maxPayload`). */
  tooBig: 1009,
  /** Bad or missing token, malformed group id or `after`, not a participant, or removed from the group. */
  policy: 1008,
  /** Internal failure (Redis or PostgreSQL unreachable while opening): reconnect later. */
  internal: 1011,
  /** Slow consumer: the send buffer passed its bound; reconnect with `?after=<last seq>`. */
  tryAgainLater: 1013,
  /** The group was deleted: do not reconnect. */
  groupDeleted: 4404,
} as const;

export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];
