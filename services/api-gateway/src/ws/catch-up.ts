import type pg from "pg";
import { messageFrame, outFrame } from "./frames.ts";
import type { GroupSocket } from "./socket.ts";
import { readLastSeq, readMessages } from "./store.ts";
import { agentFrames, partialFrame, type TurnState } from "./turn-state.ts";

/** Messages read per query during a catch-up. */
const PAGE = 500;

/**
 * Brings an attached, authorised socket from `after` to live, with no gap and no repeat.
 *
 * The socket has been buffering the group's live frames since before this runs (it was attached
 * first), so every message committed from now on is either in the database reads below or in that
 * buffer. The reads stop where the buffer begins; the buffer is then replayed, skipping messages
 * already sent and reading any hole from the database, and the socket switches to direct sends.
 *
 * Without `after`, the socket sees live events only: it starts at the group's current last seq.
 * Either way, between the stored messages and the buffer comes the state of the running turn
 * ({@link sendTurnState}).
 */
export async function catchUp(
  socket: GroupSocket,
  after: number | undefined,
  pool: pg.Pool,
  hubLastSeq: () => number,
  turnState: () => Promise<TurnState>,
): Promise<void> {
  if (after === undefined) {
    const first = socket.firstPendingSeq();
    socket.lastSeq = first !== undefined ? first - 1 : hubLastSeq();
  } else {
    // a client cannot have seen past the last committed seq; an `after` beyond it would hide new messages
    socket.lastSeq = Math.min(after, await readLastSeq(pool, socket.groupId));
    for (;;) {
      if (socket.closed) return;
      const stop = socket.firstPendingSeq();
      if (stop !== undefined && socket.lastSeq >= stop - 1) break;
      const rows = await readMessages(pool, socket.groupId, socket.lastSeq, stop, PAGE);
      for (const m of rows) {
        if (socket.closed) return;
        const wait = socket.sendPaced(messageFrame(m));
        if (wait !== undefined) await wait;
      }
      if (rows.length < PAGE) break;
    }
  }
  await sendTurnState(socket, await turnState());
  await replayPending(socket, pool);
}

/**
 * The running turn, each agent still answering, and the text so far of each reply in progress. The
 * text was read after the socket began buffering, so every token frame of a reply is in it or in
 * the buffer (or both, then cut by the socket): the client sets the text, then appends the deltas.
 */
async function sendTurnState(socket: GroupSocket, state: TurnState): Promise<void> {
  const { turn, replies, finished } = state;
  // its message has been sent or comes later: a partial the group sends to fill a gap must not follow it
  for (const id of finished) socket.holdReply(id, Number.POSITIVE_INFINITY);
  if (!turn) return;
  const groupId = socket.groupId;
  const frames = [
    outFrame({ type: "turn.started", group_id: groupId, turn_id: turn.id, message_id: turn.message_id }),
    ...agentFrames(groupId, replies),
  ];
  for (const r of replies)
    if (r.text !== undefined) frames.push(partialFrame(groupId, { ...r, text: r.text }));
  for (const frame of frames) {
    if (socket.closed) return;
    const wait = socket.sendPaced(frame);
    if (wait !== undefined) await wait;
  }
  // a truncated reply shows again with its final message
  for (const r of replies) socket.holdReply(r.message_id, r.text?.length ?? Number.POSITIVE_INFINITY);
}

/** Sends the frames buffered while opening, then goes live. */
async function replayPending(socket: GroupSocket, pool: pg.Pool): Promise<void> {
  for (;;) {
    if (socket.closed) return;
    const frame = socket.takePending();
    if (!frame) {
      // nothing buffered and nothing can arrive before this returns: switching now loses nothing
      socket.goLive();
      return;
    }
    if (frame.seq !== undefined && frame.seq > socket.lastSeq + 1) {
      for (;;) {
        const rows = await readMessages(pool, socket.groupId, socket.lastSeq, frame.seq, PAGE);
        for (const m of rows) {
          const wait = socket.sendPaced(messageFrame(m));
          if (wait !== undefined) await wait;
        }
        if (rows.length < PAGE || socket.closed) break;
      }
    }
    const wait = socket.sendPaced(frame);
    if (wait !== undefined) await wait;
  }
}
