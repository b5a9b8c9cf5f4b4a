/**
 * Last-moment hooks of a process, for what must reach the store synchronously before it goes:
 * `exit` (also after `process.exit()` and an uncaught exception) and SIGINT/SIGTERM. A signal whose
 * only listener is this one is raised again afterwards, so the process still ends as it would have.
 */

const hooks = new Set<() => void>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
let installed = false;

function runHooks(): void {
  for (const hook of [...hooks]) {
    try {
      hook();
    } catch {
      // One failing hook must not keep the others from running.
    }
  }
}

function onSignal(signal: (typeof SIGNALS)[number]): void {
  runHooks();
  // Someone else handles the signal (the app, onbehalf/register): they decide when the process ends.
  if (process.listenerCount(signal) > 1) return;
  process.removeListener(signal, onSignal);
  process.kill(process.pid, signal);
}

/** Runs `hook` synchronously when the process exits or gets SIGINT/SIGTERM; returns its removal. */
export function onProcessExit(hook: () => void): () => void {
  hooks.add(hook);
  if (!installed) {
    installed = true;
    process.on('exit', runHooks);
    for (const signal of SIGNALS) process.on(signal, onSignal);
  }
  return () => {
    hooks.delete(hook);
  };
}
