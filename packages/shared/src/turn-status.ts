import type { TurnEndReason, TurnStatus } from "./events.ts";

/** What a step (or a cancel, or a failure) asks of its turn's row. */
export interface TurnChange {
  /** The turn starts: queued → running. */
  begin?: boolean;
  /** The turn's step count and usage so far, recorded while it runs. */
  progress?: { steps: number; usage: unknown };
  /** The turn ends with this reason, unless it ended already. */
  end?: TurnEndReason;
}

/** What a change does to a turn in `status`: undefined when nothing (a retried step, an ended turn). */
export interface TurnTransition {
  status: TurnStatus;
  starts: boolean;
  ends: boolean;
  /** The change's `progress` is recorded. */
  progresses: boolean;
}

/**
 * The turn state machine. A turn starts once, from queued; it ends once, from queued or running
 * (an earlier attempt of the same step may have ended it: then nothing changes); progress counts
 * while it runs, including in the step that starts it. Every write to a turn's status goes through
 * here, under a lock on the turn's row.
 */
export function turnTransition(status: TurnStatus, change: TurnChange): TurnTransition | undefined {
  const starts = change.begin === true && status === "queued";
  const ends = change.end !== undefined && status !== "ended";
  const progresses = change.progress !== undefined && (status === "running" || starts);
  if (!starts && !ends && !progresses) return undefined;
  return { status: ends ? "ended" : starts ? "running" : status, starts, ends, progresses };
}
