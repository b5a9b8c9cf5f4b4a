// `node --import onbehalf/register app.js`: starts onbehalf from the environment before the app loads,
// for agents whose code you cannot change. ESM apps need the OpenTelemetry loader hook for their
// imports to be instrumented; CommonJS apps are patched through require.
import { register } from 'node:module';
import { diag } from '@opentelemetry/api';
import { enableAiSdkTelemetry } from '../integrations/ai-sdk.js';
import { bridgeOpenAIAgents } from '../integrations/openai-agents.js';
import { instrumentationHookUrl } from '../otel/sdk-loader.js';
import { exitSummary, exitSummaryOff } from './exit-summary.js';
import { type OnbehalfHandle, startOnbehalf } from './start.js';

register(instrumentationHookUrl());

/**
 * Broken settings (a store that cannot be opened, an unreadable key) stop the process before the app
 * starts, with one line naming what is wrong: an agent meant to be audited must not run unaudited.
 */
function start(): OnbehalfHandle {
  try {
    return startOnbehalf();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`onbehalf: cannot start, so the app was not started either: ${message}\n`);
    process.exit(1);
  }
}

/**
 * What register started from the environment: the {@link OnbehalfHandle} of {@link startOnbehalf}, for
 * an app that wants its counts or an early `shutdown()`.
 */
const onbehalf = start();
// Before the app's first line: AI SDK 7 emits no span until an integration is registered, and
// OpenAI Agents none at all without the bridge.
for (const [framework, enable] of [
  ['AI SDK telemetry', enableAiSdkTelemetry],
  ['the OpenAI Agents bridge', bridgeOpenAIAgents],
] as const) {
  await enable().catch((err: unknown) => {
    process.stderr.write(
      `onbehalf: could not turn on ${framework}, its tool calls are not recorded: ${err}\n`,
    );
  });
}

let summarized = exitSummaryOff(process.env);
function summarize(): void {
  if (summarized) return;
  summarized = true;
  process.stderr.write(exitSummary(onbehalf.counts()));
}

// A short script that simply ends must still flush its telemetry: beforeExit fires once the event loop
// is empty, and shutdown() schedules the last exports, which keeps the process alive until they finish.
let flushed = false;
process.once('beforeExit', () => {
  if (flushed) return;
  flushed = true;
  void onbehalf.shutdown().finally(summarize);
});
// process.exit() skips beforeExit: the summary still says what was stored by then.
process.once('exit', summarize);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    onbehalf
      .shutdown()
      .finally(summarize)
      .finally(() => process.kill(process.pid, signal));
  });
}
diag.debug('onbehalf: started from the environment');

export { onbehalf };
