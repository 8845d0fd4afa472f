/**
 * Publishes streamed text as `token` frames, coalescing: the first delta goes out at once, and the
 * deltas that arrive while a publish is in flight go out together in the next one. Nothing is
 * published once the signal has aborted. After a retry, the text already published is not sent
 * again: only what the new attempt adds beyond it.
 */
export class TokenStream {
  private pending = "";
  private readonly inflight = new Set<Promise<void>>();
  private published = 0;
  private attemptChars = 0;
  /** Characters handed to `publish` so far: where the next delta starts in the reply's text. */
  private sent = 0;

  /**
   * `publish` must keep the order of its calls (one Redis connection does): {@link flush} sends
   * behind a publish still in flight. `offset` is where `delta` starts in the text published so far.
   */
  constructor(
    private readonly publish: (delta: string, offset: number) => Promise<void>,
    private readonly signal: AbortSignal,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Starts counting a new attempt of the same call. */
  newAttempt(): void {
    this.attemptChars = 0;
  }

  push(delta: string): void {
    if (this.signal.aborted || !delta) return;
    const before = this.attemptChars;
    this.attemptChars += delta.length;
    if (this.attemptChars <= this.published) return;
    this.pending += delta.slice(Math.max(0, this.published - before));
    this.published = this.attemptChars;
    if (this.inflight.size === 0) this.send();
  }

  private send(): void {
    if (!this.pending || this.signal.aborted) return;
    const delta = this.pending;
    const offset = this.sent;
    this.pending = "";
    this.sent += delta.length;
    const sent: Promise<void> = this.publish(delta, offset)
      .catch((err: unknown) => {
        try {
          this.onError(err);
        } catch {
          // a failing reporter must not turn into an unhandled rejection of an unawaited flush
        }
      })
      .then(() => {
        this.inflight.delete(sent);
        if (this.inflight.size === 0) this.send();
      });
    this.inflight.add(sent);
  }

  /**
   * Sends what is pending now, without waiting for the publish in flight: when this returns, every
   * delta pushed so far has been handed to `publish`, so whatever is sent next on the same connection
   * (the call's result) comes after it. The promise resolves once they are all published (or dropped
   * after an abort); it never rejects (failures go to `onError`).
   */
  flush(): Promise<void> {
    this.send();
    return Promise.all(this.inflight).then(() => undefined);
  }
}
