/**
 * Last-moment hooks of a process, for what must reach the store synchronously before it goes:
 * `exit` (also after `process.exit()` and an uncaught exception) and SIGINT/SIGTERM. A signal whose
 * only listener is this one is raised again afterwards, so the process still ends as it would have.
 * A hook learns whether the process is surely ending (`final`): on `exit`, and on a signal no one
 * else handles; a signal the app handles may be followed by an orderly shutdown instead.
 */

type ExitHook = (final: boolean) => void;
const hooks = new Set<ExitHook>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
let installed = false;

function runHooks(final: boolean): void {
  for (const hook of [...hooks]) {
    try {
      hook(final);
    } catch {
      // One failing hook must not keep the others from running.
    }
  }
}

function onExit(): void {
  runHooks(true);
}

function onSignal(signal: (typeof SIGNALS)[number]): void {
  // Someone else handles the signal (the app, onbehalf/register): they decide when the process ends.
  const handled = process.listenerCount(signal) > 1;
  runHooks(!handled);
  if (handled) return;
  process.removeListener(signal, onSignal);
  process.kill(process.pid, signal);
}

/** Runs `hook` synchronously when the process exits or gets SIGINT/SIGTERM; returns its removal. */
export function onProcessExit(hook: ExitHook): () => void {
  hooks.add(hook);
  if (!installed) {
    installed = true;
    process.on('exit', onExit);
    for (const signal of SIGNALS) process.on(signal, onSignal);
  }
  return () => {
    hooks.delete(hook);
  };
}
