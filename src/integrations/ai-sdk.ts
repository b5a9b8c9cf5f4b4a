// The Vercel AI SDK 7 records nothing until a telemetry integration is registered (`@ai-sdk/otel`'s
// `registerTelemetry(new OpenTelemetry())`). register does that for an app that has `@ai-sdk/otel`
// installed, so an unchanged AI SDK 7 agent's tool calls reach the audit store as GenAI
// `execute_tool` spans. AI SDK 6 and earlier need no help: `experimental_telemetry` turns theirs on.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The AI SDK's global integration list (`registerTelemetry` pushes onto it). */
const INTEGRATIONS = 'AI_SDK_TELEMETRY_INTEGRATIONS';
/** The integrations of `@ai-sdk/otel`: an app that registers one itself replaces onbehalf's. */
const OTEL_INTEGRATIONS = new Set(['OpenTelemetry', 'LegacyOpenTelemetry']);

interface AiSdkOtel {
  OpenTelemetry?: new () => object;
}

/**
 * Registers `@ai-sdk/otel`'s OpenTelemetry integration with the AI SDK, unless the app registers an
 * `OpenTelemetry` or `LegacyOpenTelemetry` integration of its own (then only the app's records, so a
 * tool call is never recorded twice). Returns false when `@ai-sdk/otel` is not installed.
 */
export async function enableAiSdkTelemetry(): Promise<boolean> {
  const entry = process.argv[1] ? resolve(process.argv[1]) : join(process.cwd(), 'index.js');
  const appRequire = createRequire(entry);
  let otel: AiSdkOtel;
  try {
    // Resolved from the app, since it is the app's dependency, not onbehalf's.
    otel = (await import(pathToFileURL(appRequire.resolve('@ai-sdk/otel')).href)) as AiSdkOtel;
  } catch {
    // Without @ai-sdk/otel, AI SDK 7 emits no span at all: its tool calls would go unrecorded in
    // silence, so say so (register prints it as "its tool calls are not recorded").
    const version = aiSdkVersion(appRequire);
    if (version !== undefined && Number.parseInt(version, 10) >= 7) {
      throw new Error(
        `AI SDK ${version} is installed but @ai-sdk/otel is not, and AI SDK 7 records nothing without it (npm install @ai-sdk/otel)`,
      );
    }
    return false;
  }
  if (typeof otel.OpenTelemetry !== 'function') return false;
  const ours = new otel.OpenTelemetry();
  const globals = globalThis as Record<string, unknown>;
  const list: object[] = Array.isArray(globals[INTEGRATIONS]) ? (globals[INTEGRATIONS] as object[]) : [];
  if (list.some(isOtelIntegration)) return true;
  list.push(ours);
  // registerTelemetry() pushes: an app's own OpenTelemetry integration takes the place of ours.
  Object.defineProperty(list, 'push', {
    configurable: true,
    value(...items: object[]) {
      if (items.some(isOtelIntegration)) {
        const at = this.indexOf(ours);
        if (at >= 0) this.splice(at, 1);
      }
      return Array.prototype.push.apply(this, items);
    },
  });
  globals[INTEGRATIONS] = list;
  return true;
}

/** The version of the app's `ai` package, if it has one. */
function aiSdkVersion(appRequire: NodeJS.Require): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(appRequire.resolve('ai/package.json'), 'utf8')) as {
      version?: unknown;
    };
    return typeof manifest.version === 'string' ? manifest.version : undefined;
  } catch {
    return undefined;
  }
}

function isOtelIntegration(integration: unknown): boolean {
  const name = (integration as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' && OTEL_INTEGRATIONS.has(name);
}
