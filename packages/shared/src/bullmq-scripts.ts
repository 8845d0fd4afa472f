import { createRequire } from "node:module";

/**
 * BullMQ's Lua scripts that take a job for a worker, with one change: the queue's marker is re-added
 * only when jobs are left to take.
 *
 * BullMQ 6.7 re-adds the marker every time a job is taken (`prepareJobForProcessing`), so that
 * other blocked workers wake up for the jobs left, or learn when the next delayed job is due. When
 * no job is left, an idle worker that takes the only one wakes its own blocking call right away for
 * nothing: each pickup costs five Redis round trips (take, miss, wake, miss, block) instead of three
 * (take, miss, block). That matters here, where a turn is a chain of single jobs
 * (docs/library-notes.md).
 *
 * With the change, a worker blocked on the marker is still woken whenever a job is waiting: the
 * marker is added when a job is added (BullMQ's own scripts) and kept while jobs are left. With only
 * delayed jobs left, the delay marker is set instead, as BullMQ's `addDelayMarkerIfNeeded` sets it
 * (found in review: without it, a delayed job could wait for a blocked worker's timeout).
 *
 * The scripts are given to ioredis under the names BullMQ registers them with
 * (`<name>:<version>`); BullMQ defines a command only if the client lacks it, so these are used.
 * If BullMQ's files or the line patched have moved, nothing is replaced and BullMQ's own scripts
 * run (a test checks that the pinned version is patched).
 */
const require = createRequire(import.meta.url);

interface BullmqScript {
  name: string;
  content: string;
  keys: number;
}

const STOCK = "  addBaseMarkerIfNeeded(markerKey, false)\n";
const PATCHED = `  if rcall("LLEN", keyPrefix .. "wait") > 0 or rcall("ZCARD", keyPrefix .. "prioritized") > 0 then
    addBaseMarkerIfNeeded(markerKey, false)
  else
    local nextDelayed = rcall("ZRANGE", keyPrefix .. "delayed", 0, 0, "WITHSCORES")
    if nextDelayed[2] then
      rcall("ZADD", markerKey, tonumber(nextDelayed[2]) / 0x1000, "1")
    end
  end
`;

let cached: Record<string, { lua: string; numberOfKeys: number }> | undefined;

/** The patched scripts, as ioredis `scripts` options (empty when BullMQ's source has changed). */
export function bullmqScripts(): Record<string, { lua: string; numberOfKeys: number }> {
  if (cached) return cached;
  cached = {};
  let version: string;
  let all: Record<string, BullmqScript>;
  try {
    ({ version } = require("bullmq/dist/cjs/version.js") as { version: string });
    all = require("bullmq/dist/cjs/scripts/index.js") as Record<string, BullmqScript>;
  } catch {
    return cached; // moved by an upgrade: BullMQ's own scripts run
  }
  for (const script of Object.values(all)) {
    const marker = script.content.indexOf("local function prepareJobForProcessing(");
    if (marker < 0) continue;
    const at = script.content.indexOf(STOCK, marker);
    if (at < 0) continue;
    const lua = script.content.slice(0, at) + PATCHED + script.content.slice(at + STOCK.length);
    cached[`${script.name}:${version}`] = { lua, numberOfKeys: script.keys };
  }
  return cached;
}
