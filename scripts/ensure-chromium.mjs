// `npm test` runs the browser tests in Debian's Chromium (a browser download does not work on
// these machines): install it with apt-get when it is missing and we are root.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const CHROMIUM = "/usr/bin/chromium";
if (!existsSync(CHROMIUM)) {
  if (process.getuid?.() === 0 && existsSync("/usr/bin/apt-get")) {
    process.stdout.write("[pretest] installing chromium for the browser tests (apt-get)...\n");
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    for (const args of [
      ["update", "-qq"],
      ["install", "-y", "-qq", "chromium"],
    ]) {
      const r = spawnSync("apt-get", args, { stdio: "inherit", env });
      if (r.status !== 0) process.exit(r.status ?? 1);
    }
  } else {
    process.stdout.write(
      `[pretest] ${CHROMIUM} is missing: the browser tests will fail (apt-get install chromium)\n`,
    );
  }
}
