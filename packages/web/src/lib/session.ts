/**
 * The signed-in session: the access token in localStorage (it survives a reload), dropped when it
 * expires or the server rejects it, with a note for the login page to show.
 */
const KEY = "synapse.session";

export interface Session {
  token: string;
  email: string;
  /** Epoch ms after which the token is no longer accepted. */
  expiresAt: number;
}

type Listener = (s: Session | null) => void;
const listeners = new Set<Listener>();
let current: Session | null = read();
let notice: string | null = null;

function read(): Session | null {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) ?? "null") as Session | null;
    return s && typeof s.token === "string" && s.expiresAt > Date.now() ? s : null;
  } catch {
    return null;
  }
}

export function getSession(): Session | null {
  if (current && current.expiresAt <= Date.now()) endSession("Your session expired. Please log in again.");
  return current;
}

export function token(): string | null {
  return getSession()?.token ?? null;
}

export function startSession(s: Session): void {
  current = s;
  notice = null;
  localStorage.setItem(KEY, JSON.stringify(s));
  for (const l of listeners) l(s);
}

/** Ends the session; `why` is shown once on the login page. */
export function endSession(why?: string): void {
  if (!current) return;
  current = null;
  notice = why ?? null;
  localStorage.removeItem(KEY);
  for (const l of listeners) l(null);
}

/** The note left by the last `endSession`, read once. */
export function takeNotice(): string | null {
  const n = notice;
  notice = null;
  return n;
}

export function onSession(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

// another tab logged in or out
window.addEventListener("storage", (e) => {
  if (e.key !== KEY) return;
  current = read();
  for (const l of listeners) l(current);
});
