/**
 * The errors a reconcile can end with, and how the controller tells them apart through
 * wrapping: an error's `cause` chain and an AggregateError's `errors` are looked through, as
 * Go's `errors.Is` looks through wrapped and joined errors.
 */

/** An error that retrying cannot fix: logged, counted apart, and the key is not requeued. */
export class TerminalError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

/** Thrown at a write once this process stopped leading: the reconcile stops there, and the next leader takes over. */
export class LeadershipLostError extends Error {
  constructor() {
    super('this process no longer leads: the reconcile stops before writing');
    this.name = 'LeadershipLostError';
  }
}

/** Throws {@link LeadershipLostError} when `signal` aborted: call it before every write. */
export function fence(signal: AbortSignal): void {
  if (signal.aborted) throw new LeadershipLostError();
}

/**
 * True when nothing in `err` is worth a retry: it is a {@link TerminalError}, or was caused by
 * one, or aggregates only such errors. One retryable error among them and the whole is retried
 * (the others run again with it, and stop once only terminal ones are left).
 */
export function isTerminal(err: unknown, depth = 0): boolean {
  if (err instanceof TerminalError) return true;
  if (!(err instanceof Error) || depth > 16) return false;
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.every((e: unknown) => isTerminal(e, depth + 1));
  return err.cause !== undefined && isTerminal(err.cause, depth + 1);
}

/** True when `err` is, was caused by, or aggregates a {@link LeadershipLostError}. */
export function isLeadershipLost(err: unknown, depth = 0): boolean {
  if (err instanceof LeadershipLostError) return true;
  if (!(err instanceof Error) || depth > 16) return false;
  if (err instanceof AggregateError && err.errors.some((e: unknown) => isLeadershipLost(e, depth + 1))) return true;
  return err.cause !== undefined && isLeadershipLost(err.cause, depth + 1);
}
