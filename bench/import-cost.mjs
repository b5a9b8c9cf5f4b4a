// What `import 'onbehalf'` costs a process: wall time of the first import and RSS after it, against a
// bare Node process, in fresh child processes (module caches cold), run after run interleaved.
// Also lists the heavy packages the import loaded (database drivers, NodeSDK, exporters), which the
// root entry must not load.
//
//   npm run build && node bench/import-cost.mjs [--runs N] [SPECIFIER ...]
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 15;
const specifiers = args.length > 0 ? args : ['onbehalf'];

/** Packages whose presence after the import means the entry pulled in something it does not use. */
const HEAVY = [
  'pg',
  'better-sqlite3',
  '@opentelemetry/sdk-node',
  '@opentelemetry/exporter-trace-otlp-proto',
  '@opentelemetry/exporter-logs-otlp-proto',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/instrumentation-http',
  '@opentelemetry/instrumentation-undici',
];

// The child measures its own import; CJS packages an ESM import loads land in require.cache, and
// node:sqlite shows in process.moduleLoadList once a module required it.
const child = (specifier) => `
const start = performance.now();
await import(${JSON.stringify(specifier)});
const ms = performance.now() - start;
const { createRequire } = await import('node:module');
const cache = Object.keys(createRequire(import.meta.url).cache);
const heavy = ${JSON.stringify(HEAVY)}.filter((name) => cache.some((path) => path.includes('/node_modules/' + name + '/')));
if (process.moduleLoadList.some((entry) => entry.includes('sqlite'))) heavy.push('node:sqlite');
console.log(JSON.stringify({ ms, rssMiB: process.memoryUsage.rss() / 2 ** 20, heavy }));`;

function sample(specifier) {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', child(specifier)], {
    cwd: root,
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').at(-1));
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

const cases = ['node:os', ...specifiers];
const samples = new Map(cases.map((name) => [name, []]));
for (let round = 0; round < runs; round++) {
  for (const name of cases) samples.get(name).push(sample(name));
}
const baseline = samples.get('node:os');
const baseMs = median(baseline.map((s) => s.ms));
const baseRss = median(baseline.map((s) => s.rssMiB));
console.log(
  `node ${process.version}, ${runs} runs each, medians (baseline: a bare process importing node:os)`,
);
console.log('| import | load ms | RSS MiB | RSS over bare | heavy packages loaded |');
console.log('| ------ | ------- | ------- | ------------- | --------------------- |');
for (const name of cases) {
  const rows = samples.get(name);
  const ms = median(rows.map((s) => s.ms));
  const rss = median(rows.map((s) => s.rssMiB));
  const heavy = [...new Set(rows.flatMap((s) => s.heavy))];
  console.log(
    `| ${name} | ${ms.toFixed(1)} | ${rss.toFixed(1)} | ${name === 'node:os' ? '' : `+${(rss - baseRss).toFixed(1)}`} | ${heavy.join(', ') || 'none'} |`,
  );
}
if (baseMs > 5) console.log(`(bare import took ${baseMs.toFixed(1)} ms)`);
