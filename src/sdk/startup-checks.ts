// Start-up checks that spans can reach onbehalf. Each failure mode here once made onbehalf record
// nothing without a word: a second copy of `@opentelemetry/api` that refuses the globals onbehalf
// registered, another tracer provider registered first, no context manager.
import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { context, createContextKey, trace } from '@opentelemetry/api';
import { STARTUP_CHECK_ATTRIBUTE } from '../otel/startup-check-attribute.js';
import type { OnbehalfComponents } from './components.js';

const API = '@opentelemetry/api';

/**
 * Returns why spans cannot reach onbehalf's processors, or undefined when they can; a reason found is
 * also written to stderr as one line naming the cause and the fix. Never throws.
 */
export function checkSpansReachOnbehalf(
  parts: Pick<OnbehalfComponents, 'attributionProcessor'>,
): string | undefined {
  let problem: string | undefined;
  try {
    problem = secondApiCopy() ?? providerNotOurs(parts) ?? missingContextManager();
  } catch {
    return undefined;
  }
  if (problem) process.stderr.write(`onbehalf: ${problem}\n`);
  return problem;
}

interface ApiCopy {
  path: string;
  version: string;
}

function apiCopyFrom(base: string): ApiCopy | undefined {
  try {
    const require = createRequire(join(base, 'noop.js'));
    const entry = require.resolve(API);
    let dir = dirname(entry);
    // Up from the entry file to the package's own folder (`…/@opentelemetry/api`).
    while (!dir.endsWith(join('@opentelemetry', 'api')) && dirname(dir) !== dir) dir = dirname(dir);
    // Read from the folder: the package's `exports` do not offer `./package.json` to require().
    const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
    return { path: realpathSync(dir), version };
  } catch {
    return undefined;
  }
}

/** Whether an API of `reader`'s version accepts globals registered by `registered` (the API's own rule). */
function accepts(reader: string, registered: string): boolean {
  const [rMajor, rMinor] = reader.split('.').map(Number);
  const [gMajor, gMinor] = registered.split('.').map(Number);
  return rMajor === gMajor && (gMinor ?? 0) >= (rMinor ?? 0);
}

function secondApiCopy(): string | undefined {
  const ours = apiCopyFrom(dirname(new URL(import.meta.url).pathname));
  const registered = (globalThis as Record<symbol, { version?: string } | undefined>)[
    Symbol.for('opentelemetry.js.api.1')
  ]?.version;
  if (!ours || !registered) return undefined;
  const appDirs = [process.cwd(), process.argv[1] ? dirname(process.argv[1]) : undefined];
  for (const dir of appDirs) {
    const app = dir ? apiCopyFrom(dir) : undefined;
    if (!app || app.path === ours.path || accepts(app.version, registered)) continue;
    return (
      `spans will not be recorded: the app loads ${API} ${app.version} (${app.path}), which refuses the ` +
      `tracer provider onbehalf registered through ${API} ${registered} (${ours.path}). ` +
      `Fix: keep one copy of ${API} (onbehalf takes it as a peer dependency): npm dedupe, or npm install ${API}@${app.version}.`
    );
  }
  return undefined;
}

/** How many of a processor's `stats.seen` are start-up check spans, not the app's. */
const checkSpans = new WeakMap<object, number>();

/** The spans the start-up check started through `processor`: not the app's, so not in the exit summary. */
export function startupCheckSpans(processor: object): number {
  return checkSpans.get(processor) ?? 0;
}

function providerNotOurs(parts: Pick<OnbehalfComponents, 'attributionProcessor'>): string | undefined {
  const processor = parts.attributionProcessor;
  const before = processor.stats.seen;
  const span = trace
    .getTracer('onbehalf')
    .startSpan('onbehalf.startup_check', { root: true, attributes: { [STARTUP_CHECK_ATTRIBUTE]: true } });
  span.end();
  const seen = processor.stats.seen - before;
  checkSpans.set(processor, startupCheckSpans(processor) + seen);
  if (seen > 0) return undefined;
  return (
    'spans will not be recorded: another OpenTelemetry tracer provider was registered before onbehalf started, ' +
    "so onbehalf's processors see no span. Fix: load onbehalf first (node --import onbehalf/register), or add " +
    "createOnbehalf()'s spanProcessors and sampler to the SDK you start yourself."
  );
}

function missingContextManager(): string | undefined {
  const key = createContextKey('onbehalf.startup_check');
  const seen = context.with(context.active().setValue(key, true), () => context.active().getValue(key));
  if (seen === true) return undefined;
  return (
    'attribution will not reach spans: no OpenTelemetry context manager is registered, so withAttribution() ' +
    "and parent spans are lost. Fix: register one (the NodeSDK's own, or @opentelemetry/context-async-hooks')."
  );
}
