import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Where a running `npm start` says which local servers it started, for `npm run db:*` to reuse. */
export interface StackState {
  pid: number;
  databaseUrl?: string;
  redisUrl?: string;
  apiUrl?: string;
}

const file = (dataDir: string) => path.join(dataDir, "stack.json");

export function writeStackState(dataDir: string, state: StackState): void {
  writeFileSync(file(dataDir), JSON.stringify(state, null, 2), { mode: 0o600 });
}

/** The state of a launcher that is still alive, else undefined. */
export function readStackState(dataDir: string): StackState | undefined {
  if (!existsSync(file(dataDir))) return undefined;
  try {
    const state = JSON.parse(readFileSync(file(dataDir), "utf8")) as StackState;
    process.kill(state.pid, 0);
    return state;
  } catch {
    return undefined;
  }
}

export function clearStackState(dataDir: string): void {
  rmSync(file(dataDir), { force: true });
}
