import type { ServerFrame } from "@synapse/shared";

/** How long, and how many, cancelled turn ids a group remembers. */
const CANCELLED_TTL_MS = 30 * 60_000;
const CANCELLED_MAX = 1000;
/** How many turns a group remembers having announced (started/ended), for the resync. */
const TURNS_MAX = 100;

type TurnFrame = Extract<ServerFrame, { type: "turn.started" | "turn.ended" }>;

/** Sets `key` last in a map's order, forgetting the oldest entry past `max`. */
export function remember<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
}

/** What a group remembers of its turns: which were cancelled, and which were announced. */
export class TurnMemory {
  /** Cancelled turn id → expiry (ms). */
  private readonly cancelled = new Map<string, number>();
  /** The last turns whose turn.started or turn.ended went out, and which of the two was last. */
  private readonly turns = new Map<string, "started" | "ended">();

  markCancelled(turnId: string): void {
    remember(this.cancelled, turnId, Date.now() + CANCELLED_TTL_MS, CANCELLED_MAX);
  }

  isCancelled(turnId: string): boolean {
    const expires = this.cancelled.get(turnId);
    if (expires === undefined) return false;
    if (expires > Date.now()) return true;
    this.cancelled.delete(turnId);
    return false;
  }

  /** Whether the turn's `turn.started` went out. */
  announced(turnId: string): boolean {
    return this.turns.has(turnId);
  }

  /**
   * Whether a turn's `turn.started` or `turn.ended` is to be sent: not if this group already sent it
   * (live frames, a resync and a retried step may each bring it). Notes it as sent.
   */
  announce(frame: TurnFrame): boolean {
    if (frame.type === "turn.started") {
      if (this.turns.has(frame.turn_id)) return false;
      remember(this.turns, frame.turn_id, "started", TURNS_MAX);
      return true;
    }
    if (this.turns.get(frame.turn_id) === "ended") return false;
    remember(this.turns, frame.turn_id, "ended", TURNS_MAX);
    // the cancel's control frame may not have come (published before this subscriber was back)
    if (frame.reason === "cancelled") this.markCancelled(frame.turn_id);
    return true;
  }
}
