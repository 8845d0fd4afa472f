import { createRequire } from "node:module";

/**
 * BullMQ's Lua scripts that take a job for a worker, with one change: the queue's marker is re-added
 * only when jobs are left to take.
 *
 * BullMQ 6.7 re-adds the marker every time a job is taken (`prepareJobForProcessing`), so that other
 * blocked workers wake up for the jobs left. When none is left, an idle worker that takes the only
 * job wakes its own blocking call right away for nothing: each pickup costs five Redis round trips
 * (take, miss, wake, miss, block) instead of three (take, miss, block). This matters here, where a
 * turn is a chain of single jobs (docs/library-notes.md). With the change, a worker blocked on the
 * marker is still woken whenever a job is waiting: the marker is added when a job is added (BullMQ's
 * own scripts) and kept while jobs are left.
 *
 * The scripts are given to ioredis under the names BullMQ registers them with
 * (`<name>:<version>`); BullMQ defines a command only if the client lacks it, so these are used.
 * If BullMQ's source no longer has the line patched, nothing is replaced and BullMQ's own scripts
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
  end
`;

let cached: Record<string, { lua: string; numberOfKeys: number }> | undefined;

/** The patched scripts, as ioredis `scripts` options (empty when BullMQ's source has changed). */
export function bullmqScripts(): Record<string, { lua: string; numberOfKeys: number }> {
  if (cached) return cached;
  const { version } = require("bullmq/dist/cjs/version.js") as { version: string };
  const all = require("bullmq/dist/cjs/scripts/index.js") as Record<string, BullmqScript>;
  cached = {};
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
