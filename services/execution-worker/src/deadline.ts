/** A signal that aborts with its parent or at its deadline; see {@link withDeadline}. */
export interface Deadline {
  signal: AbortSignal;
  /** The deadline passed (and the parent had not aborted before it). */
  readonly timedOut: boolean;
  /** Frees the timer and the listener on the parent at once; call it when the work is done. */
  release(): void;
}

/**
 * An AbortSignal that aborts when `parent` does or after `ms`, whichever comes first.
 *
 * `AbortSignal.any([parent, AbortSignal.timeout(ms)])` keeps its timer, and the composite signal
 * with it, alive for the whole `ms` even when the work ended long before: with a 2-minute LLM
 * timeout that is every call of the last two minutes held in memory, which grows with the call
 * rate. Here `release()` frees both when the call is over.
 */
export function withDeadline(parent: AbortSignal, ms: number): Deadline {
  const controller = new AbortController();
  let timedOut = false;
  const onAbort = () => controller.abort(parent.reason);
  const timer = setTimeout(() => {
    if (controller.signal.aborted) return;
    timedOut = true;
    controller.abort(new DOMException(`deadline of ${ms} ms passed`, "TimeoutError"));
  }, ms);
  timer.unref();
  if (parent.aborted) onAbort();
  else parent.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    release() {
      clearTimeout(timer);
      parent.removeEventListener("abort", onAbort);
    },
  };
}
