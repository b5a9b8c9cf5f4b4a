// `node --import onbehalf/register app.js`: starts onbehalf from the environment before the app loads,
// for agents whose code you cannot change. ESM apps need the OpenTelemetry loader hook for their
// imports to be instrumented; CommonJS apps are patched through require.
import { register } from 'node:module';
import { diag } from '@opentelemetry/api';
import { startOnbehalf } from './start.js';

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

const onbehalf = startOnbehalf();

// A short script that simply ends must still flush its telemetry: beforeExit fires once the event loop
// is empty, and shutdown() schedules the last exports, which keeps the process alive until they finish.
let flushed = false;
process.once('beforeExit', () => {
  if (flushed) return;
  flushed = true;
  void onbehalf.shutdown();
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    onbehalf.shutdown().finally(() => process.kill(process.pid, signal));
  });
}
diag.debug('onbehalf: started from the environment');

export { onbehalf };
