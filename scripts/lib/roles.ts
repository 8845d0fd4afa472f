/**
 * The roles one image or one build can run, each the composition root that `npm run start:<role>`
 * runs. The imports are literal so that `npm run build` can bundle each role; a role's code is
 * loaded only when it is chosen.
 */
export const roles = {
  gateway: () => import("../../services/api-gateway/src/main.ts"),
  orchestrator: () => import("../../services/orchestrator/src/main.ts"),
  worker: () => import("../../services/execution-worker/src/main.ts"),
  migrate: () => import("../db.ts"),
} satisfies Record<string, () => Promise<unknown>>;

export type Role = keyof typeof roles;

export function isRole(name: string): name is Role {
  return Object.hasOwn(roles, name);
}
