/**
 * One entry point for container images: `tsx scripts/role.ts gateway|orchestrator|worker|migrate`.
 * Each role is the same composition root that `npm run start:<role>` runs.
 */
const roles: Record<string, string> = {
  gateway: "../services/api-gateway/src/main.ts",
  orchestrator: "../services/orchestrator/src/main.ts",
  worker: "../services/execution-worker/src/main.ts",
};
const role = process.argv[2] ?? "";
if (role === "migrate") {
  process.argv.splice(2, 1, "migrate");
  await import("./db.ts");
} else if (roles[role]) {
  await import(roles[role]);
} else {
  process.stderr.write(`usage: role.ts ${[...Object.keys(roles), "migrate"].join("|")}\n`);
  process.exit(2);
}
