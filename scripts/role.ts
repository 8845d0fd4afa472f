/**
 * One entry point for container images: `tsx scripts/role.ts gateway|orchestrator|worker|migrate`.
 * Each role is the same composition root that `npm run start:<role>` runs.
 */
import { pathToFileURL } from "node:url";
import { type ServiceName, serviceMain } from "./lib/service-process.ts";

const roles: Record<string, ServiceName> = {
  gateway: "gateway",
  orchestrator: "orchestrator",
  worker: "execution-worker",
};
const role = process.argv[2] ?? "";
if (role === "migrate") {
  process.argv.splice(2, 1, "migrate");
  await import("./db.ts");
} else if (roles[role]) {
  await import(pathToFileURL(serviceMain(roles[role])).href);
} else {
  process.stderr.write(`usage: role.ts ${[...Object.keys(roles), "migrate"].join("|")}\n`);
  process.exit(2);
}
