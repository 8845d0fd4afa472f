import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

/** Sources whose change calls for a new build of the browser client. */
const SOURCES = [
  "packages/web/src",
  "packages/web/index.html",
  "packages/web/vite.config.ts",
  "packages/client/src",
];

function newestMtime(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, name)));
  return newest;
}

/** Whether packages/web/dist is missing or older than any of its sources. */
export function webBuildIsStale(root: string): boolean {
  const index = path.join(root, "packages/web/dist/index.html");
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  return SOURCES.some((s) => newestMtime(path.join(root, s)) > built);
}

/** Builds the browser client with Vite (in a child process); throws when the build fails. */
export function buildWeb(root: string): void {
  // npm puts the web's Vite beside it when the root holds vitest's own, older one
  const vite = [
    path.join(root, "packages/web/node_modules/vite/bin/vite.js"),
    path.join(root, "node_modules/vite/bin/vite.js"),
  ].find((p) => existsSync(p));
  if (!vite) throw new Error("vite is not installed (npm install)");
  const r = spawnSync(process.execPath, [vite, "build", "--logLevel", "warn"], {
    cwd: path.join(root, "packages/web"),
    // a caller's NODE_ENV (vitest sets "test") would make Vite bundle React's development build
    env: { ...process.env, NODE_ENV: "production" },
    stdio: "inherit",
  });
  if (r.status !== 0) throw new Error(`the web client build failed (exit ${r.status ?? r.signal})`);
}
