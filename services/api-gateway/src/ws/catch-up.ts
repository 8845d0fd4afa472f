import type pg from "pg";
import { messageFrame } from "./frames.ts";
import type { GroupSocket } from "./socket.ts";
import { readLastSeq, readMessages } from "./store.ts";

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
 */
export async function catchUp(
  socket: GroupSocket,
  after: number | undefined,
  pool: pg.Pool,
  hubLastSeq: () => number,
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
  await replayPending(socket, pool);
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
