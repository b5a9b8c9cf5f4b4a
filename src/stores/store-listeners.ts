import { reportProblem } from '../metrics/problem-channel.js';
import type { StoredAuditEvent } from '../pipeline/event.js';
import type { StoredCheckpoint } from './audit-store.js';

/**
 * The listeners of a store (the OTLP log bridge, for one). They are told after the fact: a listener
 * that throws is reported and skipped, never failing an append or checkpoint already committed.
 */
export class StoreListeners {
  private readonly appends: ((rows: StoredAuditEvent[]) => void)[] = [];
  private readonly checkpoints: ((checkpoint: StoredCheckpoint) => void)[] = [];

  onAppend(listener: (rows: StoredAuditEvent[]) => void): void {
    this.appends.push(listener);
  }

  onCheckpoint(listener: (checkpoint: StoredCheckpoint) => void): void {
    this.checkpoints.push(listener);
  }

  appended(rows: StoredAuditEvent[]): void {
    notify(this.appends, rows, 'an append listener failed');
  }

  checkpointed(checkpoint: StoredCheckpoint): void {
    notify(this.checkpoints, checkpoint, 'a checkpoint listener failed');
  }
}

function notify<T>(listeners: readonly ((value: T) => void)[], value: T, what: string): void {
  for (const listener of listeners) {
    try {
      listener(value);
    } catch (err) {
      reportProblem({ code: 'listener.failed', component: 'store-listeners', message: what, cause: err });
    }
  }
}
