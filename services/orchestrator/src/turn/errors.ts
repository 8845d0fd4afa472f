/**
 * A result arrived for a call its turn's saved state has not dispatched yet: the step that
 * dispatched it died before its checkpoint and is being retried. The result job waits and tries
 * again (it is not a failure of the job).
 */
export class ResultNotReadyError extends Error {
  override name = "ResultNotReadyError";
  constructor(readonly dispatchId: string) {
    super(`result ${dispatchId} arrived before its dispatch was checkpointed`);
  }
}
