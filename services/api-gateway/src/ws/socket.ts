import { countFrameSent, wsBackpressureClosed, wsConnections } from "@synapse/shared/telemetry/metrics";
import type { WebSocket } from "ws";
import { CloseCode } from "./close-codes.ts";
import { type OutFrame, tokenFrom } from "./frames.ts";

type State = "opening" | "live" | "closed";

/**
 * One client socket of one group.
 *
 * It starts `opening`: frames the hub fans out are kept in a bounded buffer while the socket is
 * authorised and catches up from PostgreSQL; {@link GroupSocket.takePending} drains that buffer and
 * {@link GroupSocket.goLive} switches to direct sends. `lastSeq` is the seq of the last `message`
 * frame handed to the socket: a `message` frame at or below it is never sent again.
 */
export class GroupSocket {
  userId: string | undefined;
  /** Seq of the last `message` frame sent (or, before catch-up, the client's `after`). */
  lastSeq = 0;
  /** Cleared at each server ping, set again by the pong; a socket still false at the next ping is dead. */
  alive = true;
  private state: State = "opening";
  private pending: OutFrame[] = [];
  private pendingHead = 0;
  private pendingBytes = 0;
  private readonly closeListeners: (() => void)[] = [];
  /**
   * Replies whose text this socket was given in a `partial` frame: how many characters the client
   * has, so that the token frames already covered are cut; Infinity when no text of the reply is to
   * be sent until its final message. An entry goes once the group's stream has caught up with it.
   * Made on first use: most sockets never join a reply midway, and a thousand idle ones add up.
   */
  private replies: Map<string, number> | undefined;

  constructor(
    readonly ws: WebSocket,
    readonly groupId: string,
    /** Bound of the send buffer (and of the catch-up buffer): `WS_SEND_BUFFER_BYTES`. */
    private readonly maxBufferedBytes: number,
  ) {
    ws.on("close", () => this.markClosed());
    wsConnections.inc();
  }

  get closed(): boolean {
    return this.state === "closed";
  }

  get live(): boolean {
    return this.state === "live";
  }

  /** Called once when the socket closes, whoever closed it. */
  onClose(fn: () => void): void {
    if (this.state === "closed") fn();
    else this.closeListeners.push(fn);
  }

  /** A frame from the hub: sent now when live, buffered while opening. Never blocks. */
  deliver(frame: OutFrame): void {
    if (this.state === "live") {
      this.sendLive(frame);
    } else if (this.state === "opening") {
      this.pending.push(frame);
      this.pendingBytes += frame.data.length;
      // the catch-up is slower than the group: the client must come back later with ?after=
      if (this.pendingBytes > this.maxBufferedBytes) this.closeSlow();
    }
  }

  /** Seq of the first buffered `message` frame, if any: where a catch-up from the database can stop. */
  firstPendingSeq(): number | undefined {
    for (let i = this.pendingHead; i < this.pending.length; i++) {
      const seq = this.pending[i]!.seq;
      if (seq !== undefined) return seq;
    }
    return undefined;
  }

  /** The client holds `chars` characters of a reply's text (Infinity: none to send until its message). */
  holdReply(messageId: string, chars: number): void {
    this.replies ??= new Map();
    this.replies.set(messageId, chars);
  }

  /** The frame as this socket must get it, after the reply texts it was given; undefined to skip it. */
  private fit(frame: OutFrame): OutFrame | undefined {
    if (this.replies === undefined || this.replies.size === 0) return frame;
    if (frame.messageId !== undefined) {
      this.replies.delete(frame.messageId);
      return frame;
    }
    const span = frame.span;
    const has = span && this.replies.get(span.messageId);
    if (span === undefined || has === undefined) return frame;
    if (span.end <= has) return undefined;
    if (span.start > has) {
      // a hole the client cannot fill: its final message will
      this.replies.set(span.messageId, Number.POSITIVE_INFINITY);
      return undefined;
    }
    // from here the group's stream goes on from what the client has; a later `partial` of the group
    // (its text fetched to fill a gap) reaches the client as the token of what it adds
    this.replies.delete(span.messageId);
    return span.start === has && span.frame.type === "token" ? frame : tokenFrom(span, has);
  }

  /** Removes and returns the oldest buffered frame. */
  takePending(): OutFrame | undefined {
    if (this.pendingHead >= this.pending.length) return undefined;
    const frame = this.pending[this.pendingHead]!;
    this.pendingHead++;
    this.pendingBytes -= frame.data.length;
    if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.pendingHead);
      this.pendingHead = 0;
    }
    return frame;
  }

  /** Switches to direct sends. Only valid once the buffer is empty (checked, synchronously, by the caller). */
  goLive(): void {
    if (this.state !== "opening") return;
    this.pending = [];
    this.pendingHead = 0;
    this.pendingBytes = 0;
    this.state = "live";
  }

  /**
   * Sends a frame during the catch-up, skipping a `message` already sent. Returns a promise when the
   * socket's buffer is past half its bound: the caller waits for it to drain before sending more,
   * so a long history never piles up in memory.
   */
  sendPaced(whole: OutFrame): Promise<void> | undefined {
    if (whole.seq !== undefined) {
      if (whole.seq <= this.lastSeq) return undefined;
      this.lastSeq = whole.seq;
    }
    const frame = this.fit(whole);
    if (frame === undefined || this.ws.readyState !== this.ws.OPEN) return undefined;
    countFrameSent(frame.type);
    if (this.ws.bufferedAmount + frame.data.length <= this.maxBufferedBytes / 2) {
      this.ws.send(frame.data, { binary: false });
      return undefined;
    }
    // the send callback fires once this frame (and so everything before it) is written out
    return new Promise((resolve) => this.ws.send(frame.data, { binary: false }, () => resolve()));
  }

  /** Sends a reply to a client frame (pong, error), whatever the state. */
  reply(data: Buffer): void {
    if (this.state === "closed" || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(data, { binary: false });
    if (this.ws.bufferedAmount > this.maxBufferedBytes) this.closeSlow();
  }

  private sendLive(whole: OutFrame): void {
    if (whole.seq !== undefined) {
      if (whole.seq <= this.lastSeq) return;
      this.lastSeq = whole.seq;
    }
    const frame = this.fit(whole);
    if (frame === undefined || this.ws.readyState !== this.ws.OPEN) return;
    // ws.send only queues: a slow client costs memory up to the bound, never time for the others
    this.ws.send(frame.data, { binary: false });
    countFrameSent(frame.type);
    if (this.ws.bufferedAmount > this.maxBufferedBytes) this.closeSlow();
  }

  private closeSlow(): void {
    wsBackpressureClosed.inc();
    this.close(CloseCode.tryAgainLater, `slow consumer: reconnect with ?after=${this.lastSeq}`);
  }

  /**
   * Stops every delivery at once and starts the close handshake. Frames already queued reach the
   * client before the close frame, so `lastSeq` in a reason is what the client will have seen.
   */
  close(code: number, reason: string): void {
    if (this.state === "closed") return;
    this.markClosed();
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING)
      this.ws.close(code, reason);
  }

  /** Drops the connection without a close handshake (dead peer). */
  terminate(): void {
    this.markClosed();
    this.ws.terminate();
  }

  private markClosed(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    wsConnections.dec();
    this.pending = [];
    this.pendingHead = 0;
    this.pendingBytes = 0;
    this.replies = undefined;
    for (const fn of this.closeListeners.splice(0)) fn();
  }
}
