// The entry points as a user's process loads them, from dist/ through the package's own exports: the
// root loads no database driver, exporter or NodeSDK, and every subpath of package.json resolves.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runProcess } from '../helpers/run-process.js';

const repo = resolve(import.meta.dirname, '../..');
const HEAVY = ['pg', 'better-sqlite3', '@opentelemetry/sdk-node', '@opentelemetry/exporter-logs-otlp-proto'];

/** Imports `specifier` in a fresh Node process and lists the packages it loaded. */
async function loadedBy(
  specifier: string,
): Promise<{ names: string[]; packages: string[]; sqlite: boolean }> {
  const script = `
const mod = await import(${JSON.stringify(specifier)});
const { createRequire } = await import('node:module');
const cache = Object.keys(createRequire(import.meta.url).cache);
const packages = ${JSON.stringify(HEAVY)}.filter((name) => cache.some((p) => p.includes('/node_modules/' + name + '/')));
const sqlite = process.moduleLoadList.some((entry) => entry.includes('sqlite'));
console.log(JSON.stringify({ names: Object.keys(mod), packages, sqlite }));`;
  const result = await runProcess(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, NODE_OPTIONS: '' },
    timeoutMs: 60_000,
  });
  expect(result.status, result.stderr).toBe(0);
  // Run from the repository, the package resolves itself by name, as an installed one would.
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!);
}

describe('the entry points', () => {
  beforeAll(async () => {
    if (!existsSync(join(repo, 'dist/index.js'))) await runProcess('npm', ['run', 'build']);
  }, 120_000);

  it("import 'onbehalf' loads no database driver, exporter or NodeSDK", async () => {
    const root = await loadedBy('onbehalf');
    expect(root.packages).toEqual([]);
    expect(root.sqlite).toBe(false);
    expect(root.names).toContain('withAttribution');
    expect(root.names).toContain('OnbehalfError');
  });

  it('the stores entry, once imported, still loads no driver until a store is made', async () => {
    const stores = await loadedBy('onbehalf/stores');
    expect(stores.names).toContain('SqliteAuditStore');
    expect(stores.packages).toEqual([]);
  });

  it('every subpath in package.json resolves and exports something', async () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    const subpaths = Object.keys(pkg.exports).filter(
      (key) => key !== './package.json' && key !== './register',
    );
    for (const subpath of subpaths) {
      const specifier = subpath === '.' ? 'onbehalf' : `onbehalf/${subpath.slice(2)}`;
      const { names } = await loadedBy(specifier);
      expect(names.length, specifier).toBeGreaterThan(0);
    }
  }, 120_000);
});
