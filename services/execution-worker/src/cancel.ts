import { cancelKey, controlChannel, type Logger } from "@synapse/shared";
import type { Redis } from "ioredis";

/** The turn of a job was cancelled: the job ends and hands nothing back. */
export class TurnCancelledError extends Error {
  override name = "TurnCancelledError";
  constructor(readonly turnId: string) {
    super(`turn ${turnId} was cancelled`);
  }
}

/**
 * Whether a job finds nothing to do before it starts: its turn has ended (cancelled, or by the
 * sweeper), or it went with its group (no turn row, and no group). Nobody is told: no result.
 */
export function turnGoneBeforeStart(turnStatus: string | null, groupExists: boolean): boolean {
  return turnStatus === "ended" || (turnStatus === null && !groupExists);
}

/** A registration of one job's AbortController; `release()` when the job ends. */
export interface CancelHandle {
  signal: AbortSignal;
  release(): void;
}

/**
 * Aborts in-flight calls of cancelled turns. One subscriber per process listens on the control
 * channel and aborts every controller registered under the turn; a poll of the cancel keys of the
 * turns in flight covers a cancel published while the subscriber was reconnecting.
 */
export class CancelWatcher {
  private readonly byTurn = new Map<string, Set<AbortController>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly onMessage = (channel: string, raw: string) => {
    if (channel !== controlChannel(this.prefix)) return;
    try {
      const msg = JSON.parse(raw) as { type?: string; turn_id?: string };
      if (msg.type === "cancel" && typeof msg.turn_id === "string") this.abort(msg.turn_id);
    } catch {
      this.logger.warn("malformed control message ignored");
    }
  };

  constructor(
    private readonly sub: Redis,
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
    /** @defaultValue 2000 */
    private readonly pollMs = 2000,
  ) {}

  /** Subscribes; resolves once cancels will be heard. */
  async start(): Promise<void> {
    this.sub.on("message", this.onMessage);
    await this.sub.subscribe(controlChannel(this.prefix));
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.sub.off("message", this.onMessage);
    await this.sub.unsubscribe(controlChannel(this.prefix)).catch(() => undefined);
  }

  /**
   * Registers a controller under `turnId`. Register before reading the turn's status, so that a
   * cancel lands in one or the other (the turn ends in the database before the cancel is announced).
   */
  track(turnId: string): CancelHandle {
    const controller = new AbortController();
    let set = this.byTurn.get(turnId);
    if (!set) {
      set = new Set();
      this.byTurn.set(turnId, set);
    }
    set.add(controller);
    return {
      signal: controller.signal,
      release: () => {
        set.delete(controller);
        if (set.size === 0 && this.byTurn.get(turnId) === set) this.byTurn.delete(turnId);
      },
    };
  }

  /** Whether the turn's cancel key is set. */
  async isCancelled(turnId: string): Promise<boolean> {
    return (await this.redis.exists(cancelKey(this.prefix, turnId))) === 1;
  }

  private abort(turnId: string): void {
    const set = this.byTurn.get(turnId);
    if (!set) return;
    for (const c of set) c.abort(new TurnCancelledError(turnId));
    this.logger.info({ turn_id: turnId, calls: set.size }, "cancel: aborted in-flight calls");
  }

  private async poll(): Promise<void> {
    const turns = [...this.byTurn.keys()];
    if (turns.length === 0) return;
    try {
      const flags = await this.redis.mget(turns.map((t) => cancelKey(this.prefix, t)));
      turns.forEach((t, i) => {
        if (flags[i]) this.abort(t);
      });
    } catch {
      // Redis unavailable: the next poll will catch it (and the orchestrator drops a late result)
    }
  }
}
