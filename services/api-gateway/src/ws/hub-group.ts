import { ReplyStreams } from "./reply-streams.ts";
import type { GroupSocket } from "./socket.ts";
import { TurnMemory } from "./turn-memory.ts";

/** Queued after the subscriber reconnects: deliver what was committed since `resync` (ms). */
export type Resync = { resync: number };
export type Inbound = string | Resync;

/** What the hub keeps of one group with local sockets. */
export interface Group {
  readonly id: string;
  readonly channel: string;
  readonly sockets: Set<GroupSocket>;
  /** A subscription is wanted (some socket is attached); subscribe/unsubscribe follow it, in order. */
  wanted: boolean;
  /** Frames from the channel are queued (from SUBSCRIBE until UNSUBSCRIBE). */
  accepting: boolean;
  /** The group's last seq is known: queued frames are processed. */
  live: boolean;
  /** Resolves when the current subscription is live. */
  ready: Promise<void>;
  /** Subscribe and unsubscribe of this group, one after the other. */
  chain: Promise<void>;
  /** Seq of the last `message` frame fanned out: the stream to sockets has no gap and no repeat. */
  lastSeq: number;
  inbox: Inbound[];
  inboxHead: number;
  draining: boolean;
  /** Which turns were cancelled, and which were announced. */
  turns: TurnMemory;
  /** How far each streamed reply has gone out. */
  streams: ReplyStreams;
}

/** A group just attached to: no subscription yet, nothing delivered. */
export function newGroup(id: string, channel: string): Group {
  return {
    id,
    channel,
    sockets: new Set(),
    wanted: false,
    accepting: false,
    live: false,
    ready: Promise.resolve(),
    chain: Promise.resolve(),
    lastSeq: 0,
    inbox: [],
    inboxHead: 0,
    draining: false,
    turns: new TurnMemory(),
    streams: new ReplyStreams(id),
  };
}
