/** The gateway's typed HTTP client and live socket, on the page's own origin. */
import { createApi, GroupSocket } from "@synapse/client";
import { endSession, token } from "./session.ts";

export const api = createApi({
  baseUrl: window.location.origin,
  token,
  onUnauthorized: () => endSession("Your session expired. Please log in again."),
});

export function openGroupSocket(groupId: string, after: number): GroupSocket {
  return new GroupSocket({ baseUrl: window.location.origin, groupId, token, after });
}

/** The `detail` of an error answer, or a generic line. */
export function errorText(error: unknown, fallback = "Something went wrong."): string {
  const d = (error as { detail?: unknown } | undefined)?.detail;
  if (typeof d === "string") return d;
  if (Array.isArray(d)) return d.map((x) => (x as { msg?: string }).msg ?? String(x)).join("; ");
  return fallback;
}
