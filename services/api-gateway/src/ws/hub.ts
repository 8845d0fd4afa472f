import {
  groupChannel,
  type Logger,
  type Message,
  type PartialReply,
  readPartial,
  type ServerFrame,
} from "@synapse/shared";
import type { Redis } from "ioredis";
import type pg from "pg";
import { CloseCode } from "./close-codes.ts";
import { messageFrame, type OutFrame, outFrame, parseGroupFrame, type TokenFrame } from "./frames.ts";
import { type Group, type Inbound, newGroup } from "./hub-group.ts";
import type { GroupSocket } from "./socket.ts";
import { readLastSeq, readMessages, readRecentTurns, type TurnRow } from "./store.ts";
import { agentFrames, readTurnState, type TurnState } from "./turn-state.ts";

const GAP_PAGE = 1000;

export interface HubOptions {
  pool: pg.Pool;
  /** For commands: reads the stored text of replies and the turns' state. */
  redis: Redis;
  /** A connection of its own that the hub only subscribes on (its owner connects and closes it). */
  subscriber: Redis;
  prefix: string;
  logger: Logger;
}

/**
 * The process's single Redis subscription and its in-memory fan-out.
 *
 * A group's channel is subscribed while at least one local socket is attached. Frames of a group
 * are handled one at a time in arrival order; `message` frames go out in seq order, exactly once:
 * a repeat (a retried publisher) is dropped, and a jump past the next seq (publishes from two
 * processes crossing) is filled from PostgreSQL first — committed seqs have no gaps.
 * Each frame is serialised once and the same buffer is handed to every socket of the group.
 */
export class Hub {
  private readonly sub: Redis;
  private readonly cmd: Redis;
  private readonly groups = new Map<string, Group>();
  private readonly byChannel = new Map<string, Group>();
  private readyOnce = false;
  private closed = false;
  /** When the subscriber last lost its connection (ms): frames published since then were lost. */
  private disconnectedAt: number | undefined;

  private readonly listeners = {
    message: (channel: string, raw: string) => this.onChannelMessage(channel, raw),
    close: () => {
      this.disconnectedAt ??= Date.now();
    },
    ready: () => {
      if (this.readyOnce) void this.resyncAfterReconnect();
      else this.disconnectedAt = undefined; // first connection: nothing was missed
      this.readyOnce = true;
    },
  };

  constructor(private readonly opts: HubOptions) {
    this.sub = opts.subscriber;
    this.cmd = opts.redis;
    // a subscriber connected before the hub existed has had its first connection
    this.readyOnce = this.sub.status === "ready";
    for (const [event, fn] of Object.entries(this.listeners)) this.sub.on(event, fn);
  }

  /**
   * Frames published while the subscriber was disconnected are lost: once ioredis has subscribed
   * again (a PING is answered after the SUBSCRIBEs it sent first), every live group reads from the
   * database the messages committed meanwhile, and the turns that started or ended meanwhile (their
   * `turn.started` / `turn.ended` are sent then; `agent.*` and `token` frames are not recovered).
   */
  private async resyncAfterReconnect(): Promise<void> {
    try {
      await this.sub.ping();
    } catch {
      return; // disconnected again: the next "ready" resyncs
    }
    const since = this.disconnectedAt ?? Date.now();
    this.disconnectedAt = undefined;
    this.opts.logger.info({ groups: this.groups.size }, "ws: subscriber reconnected, resyncing groups");
    for (const g of this.groups.values()) if (g.live) this.enqueue(g, { resync: since });
  }

  /**
   * Adds a socket to its group; from now on it receives every frame the group fans out (it buffers
   * them until it goes live). Resolves once the group's subscription is live; rejects if Redis or
   * PostgreSQL fail (the socket stays attached: the caller closes it, which detaches it).
   */
  attach(socket: GroupSocket): Promise<void> {
    if (this.closed) return Promise.reject(new Error("hub closed"));
    let g = this.groups.get(socket.groupId);
    if (!g) {
      g = newGroup(socket.groupId, groupChannel(this.opts.prefix, socket.groupId));
      this.groups.set(g.id, g);
      this.byChannel.set(g.channel, g);
    }
    g.sockets.add(socket);
    socket.onClose(() => this.detach(socket));
    if (!g.wanted) {
      g.wanted = true;
      const group = g;
      g.ready = g.chain.then(() => this.subscribe(group));
      g.chain = g.ready.catch(() => undefined);
    }
    return g.ready;
  }

  /**
   * The group's running turn and its replies in progress, for a socket that joins (none while the
   * turn is being cancelled).
   */
  async turnState(groupId: string): Promise<TurnState> {
    const state = await readTurnState(this.cmd, this.opts.pool, this.opts.prefix, groupId);
    const g = this.groups.get(groupId);
    return state.turn && g?.turns.isCancelled(state.turn.id)
      ? { ...state, turn: undefined, replies: [] }
      : state;
  }

  /** Seq of the last `message` frame the group fanned out. */
  lastSeq(groupId: string): number {
    return this.groups.get(groupId)?.lastSeq ?? 0;
  }

  private detach(socket: GroupSocket): void {
    const g = this.groups.get(socket.groupId);
    if (!g?.sockets.delete(socket)) return;
    if (g.sockets.size === 0 && g.wanted) {
      g.wanted = false;
      g.chain = g.chain.then(() => this.unsubscribe(g)).catch(() => undefined);
    }
  }

  private async subscribe(g: Group): Promise<void> {
    g.live = false;
    g.inbox = [];
    g.inboxHead = 0;
    g.accepting = true;
    try {
      await this.sub.subscribe(g.channel);
      // read after SUBSCRIBE: a message committed later is either above this or arrives as a frame
      g.lastSeq = await readLastSeq(this.opts.pool, g.id);
    } catch (err) {
      g.accepting = false;
      this.opts.logger.error({ err, group_id: g.id }, "ws: subscribing to group failed");
      throw err;
    }
    g.live = true;
    this.pump(g);
  }

  private async unsubscribe(g: Group): Promise<void> {
    g.accepting = false;
    g.live = false;
    g.inbox = [];
    g.inboxHead = 0;
    try {
      if (!this.closed) await this.sub.unsubscribe(g.channel);
    } finally {
      if (!g.wanted && this.groups.get(g.id) === g) {
        this.groups.delete(g.id);
        this.byChannel.delete(g.channel);
      }
    }
  }

  private onChannelMessage(channel: string, raw: string): void {
    const g = this.byChannel.get(channel);
    if (g?.accepting) this.enqueue(g, raw);
  }

  private enqueue(g: Group, item: Inbound): void {
    g.inbox.push(item);
    this.pump(g);
  }

  private pump(g: Group): void {
    if (g.draining || !g.live || g.inboxHead >= g.inbox.length) return;
    g.draining = true;
    void this.drain(g);
  }

  private async drain(g: Group): Promise<void> {
    try {
      while (g.live && g.inboxHead < g.inbox.length) {
        const item = g.inbox[g.inboxHead++]!;
        if (g.inboxHead === g.inbox.length) {
          g.inbox = [];
          g.inboxHead = 0;
        }
        // only a gap fill waits; everything else is handled synchronously
        const pending = typeof item === "string" ? this.handle(g, item) : this.resync(g, item.resync);
        if (pending !== undefined) await pending;
      }
    } catch (err) {
      this.opts.logger.error({ err, group_id: g.id }, "ws: fan-out failed");
    } finally {
      g.draining = false;
    }
    this.pump(g);
  }

  private handle(g: Group, raw: string): Promise<void> | undefined {
    const parsed = parseGroupFrame(raw, g.id);
    if (parsed.kind === "invalid") {
      this.opts.logger.warn({ group_id: g.id, reason: parsed.reason }, "ws: dropped a malformed frame");
      return undefined;
    }
    if (parsed.kind === "token") return this.token(g, parsed.frame, parsed.offset);
    if (parsed.kind === "control") {
      const frame = parsed.frame;
      switch (frame.type) {
        case "_turn.cancelled":
          g.turns.markCancelled(frame.turn_id);
          return undefined;
        case "_group.deleted":
          for (const s of [...g.sockets]) s.close(CloseCode.groupDeleted, "group deleted");
          return undefined;
        case "_participant.removed":
          for (const s of [...g.sockets])
            if (s.userId === frame.user_id) s.close(CloseCode.policy, "removed from the group");
          return undefined;
      }
    }
    const frame: ServerFrame = parsed.frame;
    if (frame.type !== "message") {
      // after a cancel, the turn's only frame still sent is its turn.ended
      if (frame.type !== "turn.ended" && g.turns.isCancelled(frame.turn_id)) return undefined;
      if (frame.type === "turn.started" || frame.type === "turn.ended") this.announceTurn(g, frame);
      else this.broadcast(g, outFrame(frame));
      return undefined;
    }
    const seq = frame.message.seq;
    if (seq <= g.lastSeq) return undefined;
    this.finishReply(g, frame.message);
    if (seq === g.lastSeq + 1) {
      g.lastSeq = seq;
      this.broadcast(g, outFrame(frame));
      return undefined;
    }
    return this.fill(g, seq).then(() => {
      if (seq > g.lastSeq) {
        g.lastSeq = seq;
        this.broadcast(g, outFrame(frame));
      }
    });
  }

  private token(g: Group, frame: TokenFrame, offset: number): Promise<void> | undefined {
    if (g.turns.isCancelled(frame.turn_id)) return undefined;
    const out = g.streams.onToken(frame, offset);
    if (out === "gap") return this.fillReply(g, frame, offset);
    if (out !== undefined) this.broadcast(g, out);
    return undefined;
  }

  /** A token frame does not follow what went out of its reply: the stored text fills the gap. */
  private async fillReply(g: Group, frame: TokenFrame, offset: number): Promise<void> {
    let stored: PartialReply | undefined;
    try {
      stored = await readPartial(this.cmd, this.opts.prefix, g.id, frame.message_id);
    } catch (err) {
      this.opts.logger.warn({ err, group_id: g.id }, "ws: reading a reply's text failed");
    }
    for (const f of g.streams.resume(frame, offset, stored)) this.broadcast(g, f);
  }

  private finishReply(g: Group, m: Message): void {
    if (m.sender_type === "agent" && m.turn_id) g.streams.finish(m.id, m.turn_id);
  }

  /**
   * After the subscriber was away since `since`: the messages committed meanwhile, then the turns
   * that started (still running) or ended meanwhile, each announced once.
   */
  private async resync(g: Group, since: number): Promise<void> {
    // turns first, messages second: whatever was committed with a turn's end is in the fill, so a
    // turn's messages still come before its turn.ended
    let turns: TurnRow[] = [];
    try {
      turns = await readRecentTurns(this.opts.pool, g.id, since);
    } catch (err) {
      // the messages will be complete; only the turn events of the outage are missing
      this.opts.logger.warn({ err, group_id: g.id }, "ws: reading the turns of the outage failed");
    }
    await this.fill(g, undefined);
    for (const t of turns) {
      const seen = g.turns.announced(t.id);
      const ids = { group_id: g.id, turn_id: t.id };
      if (t.reason === "cancelled") g.turns.markCancelled(t.id);
      if (!seen && t.started_since)
        this.announceTurn(g, { type: "turn.started", ...ids, message_id: t.message_id });
      const end = { reason: t.reason ?? "error", cancelled_by: t.cancelled_by } as const;
      if (t.status === "ended") this.announceTurn(g, { type: "turn.ended", ...ids, ...end });
    }
    // then the text so far of the running turn's replies (should this fail, their messages repair it)
    const replies = await this.turnState(g.id).then(
      (state) => state.replies,
      (err: unknown) => {
        this.opts.logger.warn({ err, group_id: g.id }, "ws: reading the replies in progress failed");
        return [];
      },
    );
    const partials = g.streams.restore(replies);
    if (partials.length > 0) for (const f of agentFrames(g.id, replies)) this.broadcast(g, f);
    for (const f of partials) this.broadcast(g, f);
  }

  /**
   * Sends a turn's `turn.started` or `turn.ended` unless this group already sent it: live frames,
   * a resync and a retried step may each bring it.
   */
  private announceTurn(g: Group, frame: Extract<ServerFrame, { type: "turn.started" | "turn.ended" }>): void {
    if (!g.turns.announce(frame)) return;
    if (frame.type === "turn.ended") g.streams.endTurn(frame.turn_id);
    this.broadcast(g, outFrame(frame));
  }

  /** Fans out the stored messages between the last one sent and `before` (or all, when undefined). */
  private async fill(g: Group, before: number | undefined): Promise<void> {
    try {
      for (;;) {
        const rows: Message[] = await readMessages(this.opts.pool, g.id, g.lastSeq, before, GAP_PAGE);
        for (const m of rows) {
          if (m.seq <= g.lastSeq) continue;
          g.lastSeq = m.seq;
          this.finishReply(g, m);
          this.broadcast(g, messageFrame(m));
        }
        if (rows.length < GAP_PAGE) return;
      }
    } catch (err) {
      // a socket must never skip a seq silently: make every client reconnect and catch up
      this.opts.logger.error({ err, group_id: g.id }, "ws: reading missed messages failed");
      for (const s of [...g.sockets]) s.close(CloseCode.internal, "internal error: reconnect with ?after=");
    }
  }

  private broadcast(g: Group, frame: OutFrame): void {
    for (const s of g.sockets) s.deliver(frame);
  }

  /** Leaves the subscriber's channels; its owner closes it. Sockets are closed by their owner before. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const g of this.groups.values()) {
      g.accepting = false;
      g.live = false;
    }
    this.groups.clear();
    // only this hub's channels: the connection is its owner's, and may serve others too
    const channels = [...this.byChannel.keys()];
    this.byChannel.clear();
    for (const [event, fn] of Object.entries(this.listeners)) this.sub.off(event, fn);
    if (this.sub.status === "ready" && channels.length > 0)
      await this.sub.unsubscribe(...channels).catch(() => undefined);
  }
}
