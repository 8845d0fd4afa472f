/**
 * Publishes streamed text as `token` frames, coalescing: the first delta goes out at once, and the
 * deltas that arrive while a publish is in flight go out together in the next one. Nothing is
 * published once the signal has aborted. After a retry, the text already published is not sent
 * again: only what the new attempt adds beyond it.
 */
export class TokenStream {
  private pending = "";
  private inflight: Promise<void> | undefined;
  private published = 0;
  private attemptChars = 0;

  constructor(
    private readonly publish: (delta: string) => Promise<void>,
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
    if (!this.inflight) this.inflight = this.pump();
  }

  private async pump(): Promise<void> {
    while (this.pending && !this.signal.aborted) {
      const d = this.pending;
      this.pending = "";
      try {
        await this.publish(d);
      } catch (err) {
        this.onError(err);
      }
    }
    this.inflight = undefined;
  }

  /** Resolves when everything pushed so far has been published (or dropped after an abort). */
  async flush(): Promise<void> {
    while (this.inflight !== undefined) await this.inflight;
  }
}
