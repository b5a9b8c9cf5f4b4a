// onbehalf instruments the frameworks an app uses without the app importing onbehalf: when the app
// loads a framework's module (ESM through the loader hook register installs, or CommonJS), its classes
// are patched before the app sees them. Apps that do not use the framework pay nothing.
import type { Instrumentation } from '../otel/sdk-interfaces.js';
import { instrumentationSdk } from '../otel/sdk-loader.js';

/** A file of a framework package to patch, e.g. `@langchain/core/dist/tools/index.cjs`. */
export interface FrameworkFile {
  /**
   * The file's path from the package name, as Node resolves it (ESM and CommonJS builds differ), or
   * the package name itself for its main module.
   */
  file: string;
  /** Patches the loaded module's exports in place; false when they are not the expected shape. */
  patch: (moduleExports: object) => boolean;
}

/**
 * An OpenTelemetry instrumentation that patches framework files when the app loads them. A module
 * whose shape changed (a framework release onbehalf does not know) is reported on stderr once and
 * left unpatched: the app still runs, and the message says its tool calls go unrecorded.
 */
export function frameworkInstrumentation(
  framework: string,
  packageName: string,
  versions: string[],
  files: readonly FrameworkFile[],
): Instrumentation {
  let warned = false;
  const patchOrReport = (file: string, patch: FrameworkFile['patch']) => (moduleExports: object) => {
    let ok = false;
    try {
      ok = patch(moduleExports);
    } catch {}
    if (!ok && !warned) {
      warned = true;
      process.stderr.write(
        `onbehalf: could not instrument ${framework} (${file} is not what onbehalf knows): its tool calls are not recorded\n`,
      );
    }
    return moduleExports;
  };
  // The package's main module is patched as the module; any other file as a file inside it.
  const main = files.find((f) => f.file === packageName);
  const inner = files.filter((f) => f !== main);
  const { InstrumentationBase, InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile } =
    instrumentationSdk();
  class FrameworkInstrumentation extends InstrumentationBase {
    constructor() {
      super(`onbehalf-${packageName}`, '1', {});
    }
    protected init() {
      return new InstrumentationNodeModuleDefinition(
        packageName,
        versions,
        main && patchOrReport(main.file, main.patch),
        undefined,
        inner.map(
          ({ file, patch }) =>
            new InstrumentationNodeModuleFile(file, versions, patchOrReport(file, patch), () => {}),
        ),
      );
    }
  }
  return new FrameworkInstrumentation() as Instrumentation;
}

/** Marks a patched function, so a module loaded twice is patched once. */
const PATCHED = Symbol.for('onbehalf.patched');

/**
 * Replaces `owner[name]` with `wrap(original)`, once. Returns false when there is nothing to patch
 * (the framework changed its shape): the caller reports that instead of failing.
 */
export function patchMethod<T extends object>(
  owner: T | undefined,
  name: string,
  wrap: (original: (...args: unknown[]) => unknown) => (...args: unknown[]) => unknown,
): boolean {
  const target = owner as Record<string, unknown> | undefined;
  const original = target?.[name];
  if (typeof original !== 'function' || !target) return false;
  if ((original as { [PATCHED]?: boolean })[PATCHED]) return true;
  const patched = wrap(original as (...args: unknown[]) => unknown);
  Object.defineProperty(patched, PATCHED, { value: true });
  target[name] = patched;
  return true;
}
