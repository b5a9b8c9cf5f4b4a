import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Every name a benchmark takes from dist/ must still be exported there. A static import of a missing
// name fails when the bench loads, but a destructured dynamic import yields `undefined` and fails
// only deep inside one section (the HTTP child, minutes into `npm run bench`): checked here for all.
const benchDir = new URL('../../bench/', import.meta.url);
const IMPORTS = [
  /import\s*\{([^}]*)\}\s*from\s*'(\.\.\/dist\/[^']+)'/g,
  /const\s*\{([^}]*)\}\s*=\s*await\s+import\('(\.\.\/dist\/[^']+)'\)/g,
];

function namesOf(list: string): string[] {
  return list
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '' && !n.startsWith('type '))
    .map((n) => n.split(/\s+as\s+|\s*:\s*/)[0] as string);
}

const uses: { file: string; module: string; names: string[] }[] = [];
for (const file of readdirSync(benchDir).filter((f) => f.endsWith('.mjs'))) {
  const text = readFileSync(new URL(file, benchDir), 'utf8');
  for (const pattern of IMPORTS) {
    for (const m of text.matchAll(pattern)) {
      uses.push({ file, module: m[2] as string, names: namesOf(m[1] as string) });
    }
  }
}

describe('benchmarks import what dist/ exports', () => {
  it('finds the imports to check', () => {
    expect(uses.length).toBeGreaterThan(20);
  });
  for (const { file, module, names } of uses) {
    it(`${file}: ${names.join(', ')} from ${module}`, async () => {
      const mod = (await import(fileURLToPath(new URL(module, benchDir)))) as Record<string, unknown>;
      const missing = names.filter((n) => mod[n] === undefined);
      expect(missing, `${file} imports names ${module} does not export`).toEqual([]);
    });
  }
});
