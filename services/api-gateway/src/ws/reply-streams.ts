import type { PartialReply } from "@synapse/shared";
import { type OutFrame, type TokenFrame, tokenFrame, tokenFrom } from "./frames.ts";
import { remember } from "./turn-memory.ts";
import { partialFrame } from "./turn-state.ts";

/** How many replies a group tracks; the oldest is forgotten first (turn.ended forgets a turn's). */
const REPLIES_MAX = 500;

interface Reply {
  turnId: string;
  /** Characters of the text fanned out so far; Infinity once nothing more may be sent. */
  next: number;
}

/**
 * The streamed replies of one group as its sockets have received them, so that the token frames a
 * group fans out join into each reply's text without gap or repeat: a repeated part is cut, and a
 * gap (frames lost while the subscriber was away, or a group subscribed mid-reply) is filled by a
 * `partial` frame with the text stored so far. After its `message` frame, nothing of a reply is sent.
 */
export class ReplyStreams {
  private readonly replies = new Map<string, Reply>();

  constructor(private readonly groupId: string) {}

  /** The frame to send for a token, none, or "gap" when the stored text must be read first ({@link resume}). */
  onToken(frame: TokenFrame, offset: number): OutFrame | undefined | "gap" {
    const r = this.replies.get(frame.message_id);
    const end = offset + frame.delta.length;
    if (r === undefined) {
      if (offset !== 0) return "gap";
      this.track(frame.message_id, frame.turn_id, end);
      return tokenFrame(frame, offset);
    }
    if (end <= r.next) return undefined;
    if (offset > r.next) return "gap";
    const from = r.next;
    r.next = end;
    const out = tokenFrame(frame, offset);
    return offset === from ? out : tokenFrom(out.span!, from);
  }

  /** After a gap: the stored text (if it still covers the frame), then what the frame adds to it. */
  resume(frame: TokenFrame, offset: number, stored: PartialReply | undefined): OutFrame[] {
    const text = stored?.turn_id === frame.turn_id ? stored.text : undefined;
    if (text === undefined || text.length < offset) {
      // the text is gone, truncated or has a hole: the reply shows again with its final message
      this.track(frame.message_id, frame.turn_id, Number.POSITIVE_INFINITY);
      return [];
    }
    const out = this.restore([{ ...stored!, text }]);
    const next = this.onToken(frame, offset);
    if (next !== undefined && next !== "gap") out.push(next);
    return out;
  }

  /** The text so far of the given replies (read after the subscriber was away), where it is ahead. */
  restore(replies: PartialReply[]): OutFrame[] {
    const out: OutFrame[] = [];
    for (const p of replies) {
      const r = this.replies.get(p.message_id);
      if (r?.next === Number.POSITIVE_INFINITY) continue;
      if (p.text === undefined) {
        this.track(p.message_id, p.turn_id, Number.POSITIVE_INFINITY);
        continue;
      }
      if (r !== undefined && p.text.length <= r.next) continue;
      this.track(p.message_id, p.turn_id, p.text.length);
      out.push(partialFrame(this.groupId, { ...p, text: p.text }));
    }
    return out;
  }

  /** The reply's final message was sent: nothing more of it goes out. */
  finish(messageId: string, turnId: string): void {
    this.track(messageId, turnId, Number.POSITIVE_INFINITY);
  }

  endTurn(turnId: string): void {
    for (const [id, r] of this.replies) if (r.turnId === turnId) this.replies.delete(id);
  }

  private track(messageId: string, turnId: string, next: number): void {
    remember(this.replies, messageId, { turnId, next }, REPLIES_MAX);
  }
}
