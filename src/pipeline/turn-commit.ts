/**
 * One commit at the end of the current event-loop turn, shared by every event deferred to it
 * (`commit: 'turn'`). `setImmediate` runs after every I/O callback of the turn, so requests handled
 * in the same turn share one transaction, and nothing waits longer than the turn it ended in.
 */
export class TurnCommit {
  private pending: { promise: Promise<void>; resolve: () => void } | undefined;

  /** @param commit writes what is queued; its failure is the caller's to count and report. */
  constructor(private readonly commit: () => void | Promise<void>) {}

  /** The commit at the end of this turn, scheduled by the first event deferred to it. Never rejects. */
  defer(): Promise<void> {
    if (this.pending) return this.pending.promise;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    this.pending = { promise, resolve };
    setImmediate(() => this.run());
    return promise;
  }

  private run(): void {
    const turn = this.pending;
    this.pending = undefined;
    const done = () => turn?.resolve();
    try {
      const written = this.commit();
      if (written) written.then(done, done);
      else done();
    } catch {
      done();
    }
  }
}
