// `npm start` on a fresh clone: install dependencies when they are missing, then run the launcher
// (scripts/start.ts). Plain JavaScript because TypeScript tooling may not be installed yet.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
if (!existsSync(path.join(root, "node_modules", ".package-lock.json"))) {
  process.stdout.write("[synapse] installing dependencies (npm ci)...\n");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const r = spawnSync(npm, ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts", "start.ts")], {
  cwd: root,
  stdio: "inherit",
});
// Ctrl-C reaches the launcher directly (same process group); SIGTERM sent to us is passed on
process.on("SIGINT", () => undefined);
process.on("SIGTERM", () => child.kill("SIGTERM"));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
