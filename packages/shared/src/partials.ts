import type { Redis } from "ioredis";
import { groupChannel, type TokenEvent } from "./events.ts";

/**
 * The text of replies still being streamed, kept in Redis so that a socket opening mid-reply (or a
 * gateway whose subscriber was away) can be given the text so far. Never in PostgreSQL: the final
 * message is the record. Per reply, one string key: a JSON header line, then the text published so
 * far (appended with each token publish, in the same write). Per group, a sorted set of the replies'
 * message ids scored by when their key expires: where a reader finds them without scanning.
 */

/** Longest reply text kept; a longer reply is marked truncated and resumes only with its final message. */
export const PARTIAL_MAX_CHARS = 100_000;
/** Life of a reply's text while it is streamed, renewed by every write. */
export const PARTIAL_TTL_MS = 10 * 60_000;
/** Life of a reply's text once its call has ended: long enough for the final message to be stored. */
export const PARTIAL_DONE_TTL_MS = 60_000;

export function partialKey(prefix: string, groupId: string, messageId: string): string {
  return `${prefix}:partial:${groupId}:${messageId}`;
}

export function partialIndexKey(prefix: string, groupId: string): string {
  return `${prefix}:partials:${groupId}`;
}

/** The header line of a reply's key. */
export interface PartialHeader {
  turn_id: string;
  alias: string;
  /** The text passed {@link PARTIAL_MAX_CHARS}: only the final message will show it. */
  truncated?: true;
}

/** A reply still being streamed, as stored. `text` is undefined when it was truncated. */
export interface PartialReply {
  message_id: string;
  turn_id: string;
  alias: string;
  text: string | undefined;
}

/** Reads one stored reply value (header line + text); undefined if it is not one. */
export function parsePartial(messageId: string, value: string | null): PartialReply | undefined {
  if (value === null) return undefined;
  const nl = value.indexOf("\n");
  if (nl < 0) return undefined;
  let header: PartialHeader;
  try {
    header = JSON.parse(value.slice(0, nl)) as PartialHeader;
  } catch {
    return undefined;
  }
  if (typeof header.turn_id !== "string" || typeof header.alias !== "string") return undefined;
  const text = header.truncated ? undefined : value.slice(nl + 1);
  return { message_id: messageId, turn_id: header.turn_id, alias: header.alias, text };
}

function header(frame: TokenEvent, truncated: boolean): string {
  const h: PartialHeader = {
    turn_id: frame.turn_id,
    alias: frame.alias,
    ...(truncated ? { truncated } : {}),
  };
  return `${JSON.stringify(h)}\n`;
}

/**
 * Publishes a `token` frame and extends its reply's stored text, in one pipeline (one write, no
 * extra round trip). The text is written before the frame is published: a reader that finds text
 * of length L has every frame with `offset < L` already published, and no later one.
 */
export async function publishToken(redis: Redis, prefix: string, frame: TokenEvent): Promise<void> {
  const key = partialKey(prefix, frame.group_id, frame.message_id);
  const end = frame.offset + frame.delta.length;
  const p = redis.pipeline();
  if (frame.offset === 0) {
    // a new stream of this reply (a job run again from the start replaces the old text)
    const index = partialIndexKey(prefix, frame.group_id);
    const now = Date.now();
    const text = end > PARTIAL_MAX_CHARS ? header(frame, true) : header(frame, false) + frame.delta;
    p.set(key, text, "PX", PARTIAL_TTL_MS);
    p.zremrangebyscore(index, "-inf", now);
    p.zadd(index, now + PARTIAL_TTL_MS, frame.message_id);
    p.pexpire(index, PARTIAL_TTL_MS);
  } else if (end <= PARTIAL_MAX_CHARS) {
    p.append(key, frame.delta);
    p.pexpire(key, PARTIAL_TTL_MS);
  } else if (frame.offset <= PARTIAL_MAX_CHARS) {
    p.set(key, header(frame, true), "PX", PARTIAL_TTL_MS);
  }
  p.publish(groupChannel(prefix, frame.group_id), JSON.stringify(frame));
  const results = await p.exec();
  const failed = results?.find(([err]) => err);
  if (failed) throw failed[0];
}

/**
 * Marks the end of a reply's call: its text stays for {@link PARTIAL_DONE_TTL_MS} while the final
 * message is stored (readers skip replies whose message is stored), or goes at once when the call
 * failed and no message will have its id.
 */
export async function endPartial(
  redis: Redis,
  prefix: string,
  groupId: string,
  messageId: string,
  outcome: "stored" | "failed",
): Promise<void> {
  const key = partialKey(prefix, groupId, messageId);
  const index = partialIndexKey(prefix, groupId);
  if (outcome === "failed") {
    await redis.pipeline().del(key).zrem(index, messageId).exec();
    return;
  }
  await redis
    .pipeline()
    .pexpire(key, PARTIAL_DONE_TTL_MS)
    .zadd(index, "XX", Date.now() + PARTIAL_DONE_TTL_MS, messageId)
    .exec();
}

/** The replies of a group whose text has not expired, in no particular order. */
export async function readPartials(redis: Redis, prefix: string, groupId: string): Promise<PartialReply[]> {
  const ids = await redis.zrangebyscore(partialIndexKey(prefix, groupId), Date.now(), "+inf");
  if (ids.length === 0) return [];
  const values = await redis.mget(ids.map((id) => partialKey(prefix, groupId, id)));
  const out: PartialReply[] = [];
  ids.forEach((id, i) => {
    const reply = parsePartial(id, values[i] ?? null);
    if (reply) out.push(reply);
  });
  return out;
}

/** One reply's stored text, or undefined when it is gone. */
export async function readPartial(
  redis: Redis,
  prefix: string,
  groupId: string,
  messageId: string,
): Promise<PartialReply | undefined> {
  return parsePartial(messageId, await redis.get(partialKey(prefix, groupId, messageId)));
}
