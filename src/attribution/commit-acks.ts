/**
 * How `audited()` learns that its action's audit event is durable. A gate marks its span as awaited
 * when it starts; an {@link AuditSpanProcessor} committing once per event-loop turn (`commit: 'turn'`)
 * then defers that span's event to the turn's shared commit and leaves a promise here, which the gate
 * awaits before it resolves. Spans nobody awaits are committed before their `end()` returns, as ever.
 * Keyed by the span object itself (the SDK passes the same object to `onEnd`), held weakly.
 */

const awaited = new WeakSet<object>();
const acks = new WeakMap<object, Promise<void>[]>();

/** Pipelines running that commit once per turn: without one, no gate has a commit to wait for. */
let turnPipelines = 0;

/** A pipeline committing once per turn started; call the result when it shuts down. */
export function turnPipelineStarted(): () => void {
  turnPipelines++;
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    turnPipelines--;
  };
}

/**
 * The caller will wait for this span's audit event to be committed (see {@link takeCommitAck}).
 * Returns false, marking nothing, when no pipeline commits per turn: every pipeline then commits in
 * `end()` (or does not wait at all), and the gate has nothing to take.
 */
export function expectCommitAck(span: object): boolean {
  if (turnPipelines === 0) return false;
  awaited.add(span);
  return true;
}

/** Whether someone waits for the commit of this span's audit event. */
export function isCommitAwaited(span: object): boolean {
  return awaited.has(span);
}

/** Leaves the promise of the commit holding this span's event (one per pipeline that defers it). */
export function addCommitAck(span: object, ack: Promise<void>): void {
  const list = acks.get(span);
  if (list) list.push(ack);
  else acks.set(span, [ack]);
}

/**
 * The commit of this span's audit event, once it ended: undefined when it is committed already (or no
 * pipeline records it). The promise never rejects: a failed write is counted and reported by the
 * processor and retried, as it is for an event committed in `end()`.
 */
export function takeCommitAck(span: object): Promise<void> | undefined {
  awaited.delete(span);
  const list = acks.get(span);
  if (!list) return undefined;
  acks.delete(span);
  return list.length === 1 ? list[0] : Promise.all(list).then(() => undefined);
}
