/**
 * One entry point for container images and the production build:
 * `node dist/role.js gateway|orchestrator|worker|migrate` (or `tsx scripts/role.ts …` from source).
 */
import { isRole, roles } from "./lib/roles.ts";

const role = process.argv[2] ?? "";
if (!isRole(role)) {
  process.stderr.write(`usage: role ${Object.keys(roles).join("|")}\n`);
  process.exit(2);
}
// db.ts reads its command where the role stands: `role migrate` is `db.ts migrate`
if (role === "migrate") process.argv.splice(2, 1, "migrate");
await roles[role]();
