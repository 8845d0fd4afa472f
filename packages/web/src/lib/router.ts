/** A few routes under `/app/`, on the History API: no router library for four pages. */
import { useSyncExternalStore } from "react";

export type Route =
  | { page: "login" }
  | { page: "register" }
  | { page: "groups" }
  | { page: "chat"; groupId: string }
  | { page: "settings"; groupId: string }
  | { page: "missing" };

export function parseRoute(path: string): Route {
  const p = path.replace(/\/+$/, "");
  if (p === "/app" || p === "") return { page: "groups" };
  if (p === "/app/login") return { page: "login" };
  if (p === "/app/register") return { page: "register" };
  const m = /^\/app\/groups\/([0-9a-f-]{36})(\/settings)?$/i.exec(p);
  if (m) return m[2] ? { page: "settings", groupId: m[1]! } : { page: "chat", groupId: m[1]! };
  return { page: "missing" };
}

const listeners = new Set<() => void>();
window.addEventListener("popstate", () => {
  for (const l of listeners) l();
});

export function navigate(path: string, opts: { replace?: boolean } = {}): void {
  if (path === window.location.pathname) return;
  if (opts.replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  for (const l of listeners) l();
}

export function useRoute(): Route {
  const path = useSyncExternalStore(
    (cb) => {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    () => window.location.pathname,
  );
  return parseRoute(path);
}

/** Props for an `<a>` that navigates inside the app (a plain link for new tabs and keyboards). */
export function linkTo(path: string) {
  return {
    href: path,
    onClick: (e: { preventDefault(): void; metaKey: boolean; ctrlKey: boolean; shiftKey: boolean }) => {
      if (e.metaKey || e.ctrlKey || e.shiftKey) return;
      e.preventDefault();
      navigate(path);
    },
  };
}
