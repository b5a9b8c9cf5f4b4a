// The folders of src/ are stages of one flow: attribution is set on the context, the pipeline turns
// spans into audit events, the log format chains and checkpoints them, stores keep them, the verifier
// reads them back, and report, OTLP and the CLI present them. A folder may import only folders that
// come before it in that flow, and the shared leaves; a leaf imports only other leaves. This test
// reads every import in src/ and fails on one that runs against the flow.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

/** Folders every stage may use: they import nothing but each other. */
const LEAVES = ['errors', 'conventions', 'otel', 'redaction', 'metrics', 'text', 'time'];

/** The flow, upstream first. */
const FLOW = [
  'attribution',
  'config',
  'keys',
  'propagation',
  'pipeline',
  'integrations',
  'log-format',
  'stores',
  'verify',
  'consistency',
  'witness',
  'receipts',
  'otlp',
  'report',
  'sdk',
  'demo',
  'cli',
];

interface Edge {
  file: string;
  from: string;
  to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Static imports, re-exports, type imports and `import()` of relative paths. */
const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

function folderOf(path: string): string | undefined {
  const rel = relative(SRC, path);
  return rel.includes('/') ? rel.split('/')[0] : undefined;
}

function crossFolderEdges(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = folderOf(file);
    if (!from) continue; // the entry points at src/ itself may gather from anywhere
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const to = folderOf(resolve(dirname(file), match[1]!));
      if (to !== from) edges.push({ file: relative(SRC, file), from, to: to ?? '(src root)' });
    }
  }
  return edges;
}

function allowed({ from, to }: Edge): boolean {
  if (LEAVES.includes(from)) return LEAVES.includes(to);
  if (LEAVES.includes(to)) return true;
  const a = FLOW.indexOf(from);
  const b = FLOW.indexOf(to);
  return a >= 0 && b >= 0 && b < a;
}

describe('the folder graph of src/', () => {
  const edges = crossFolderEdges();

  it('names every folder of src/ as a leaf or a stage of the flow', () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    expect(folders.filter((name) => !LEAVES.includes(name) && !FLOW.includes(name))).toEqual([]);
  });

  it('finds the imports it checks', () => {
    // A broken pattern would find nothing and pass everything.
    expect(edges.some((edge) => edge.from === 'stores' && edge.to === 'log-format')).toBe(true);
    expect(edges.some((edge) => edge.from === 'cli' && edge.to === 'verify')).toBe(true);
  });

  it('has no import against the flow', () => {
    const against = edges.filter((edge) => !allowed(edge)).map((e) => `${e.file}: ${e.from} → ${e.to}`);
    expect(against).toEqual([]);
  });
});
