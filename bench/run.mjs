// `npm run bench`: what attribution and auditing cost, each measured against its baseline in the
// same run, printed as one table of medians and ratios.
//
//   npm run bench                       quick (a few minutes)
//   npm run bench -- --full             longer runs, 1M-event store and memory run
//   npm run bench -- --only span,verify sections: span, append, verify, driver, propagation, policy, memory, extra
//   npm run bench -- --json out.json    also write the rows and the machine as JSON
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { machine, row, settings, table } from './lib.mjs';

export const SECTIONS = {
  span: async (mode) => (await import('./span.bench.mjs')).run({ mode }),
  append: async (mode) => (await import('./audit.bench.mjs')).run({ mode }),
  verify: async (mode) => (await import('./verify.bench.mjs')).run({ mode }),
  driver: async (mode) => (await import('./driver.bench.mjs')).run({ mode }),
  propagation: async (mode) => (await import('./http.bench.mjs')).run({ mode }),
  policy: async (mode) => (await import('./policy.bench.mjs')).run({ mode }),
  memory: async (mode) => (await import('./memory.bench.mjs')).run({ mode }),
  extra: extras,
};

/**
 * Benchmarks other parts of the project keep next to these (store append rate, PostgreSQL): run when
 * present and runnable, reported as they are, skipped with a note otherwise.
 */
async function extras(mode) {
  const rows = [];
  const found = [
    [
      'append-rate.mjs',
      'audited() pipeline',
      { n: mode === 'full' ? 20_000 : mode === 'tiny' ? 100 : 3_000 },
    ],
    ['postgres.bench.mjs', 'postgres', { mode }],
  ];
  for (const [file, label, options] of found) {
    const url = new URL(`./${file}`, import.meta.url);
    let mod;
    try {
      mod = await import(url.href);
    } catch (err) {
      if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
      continue;
    }
    if (typeof mod.run !== 'function') continue;
    try {
      const out = await mod.run(options);
      for (const r of Array.isArray(out) ? out : []) {
        const value = Number(r.value ?? (r.medianNs !== undefined ? r.medianNs / 1000 : Number.NaN));
        rows.push(
          row({
            section: 'extra',
            name: `${label}: ${r.name}`,
            value,
            unit: r.unit ?? (r.medianNs ? 'µs' : ''),
            better: 'higher',
          }),
        );
      }
    } catch (err) {
      // A database that is not running is not a failure of these benchmarks.
      console.error(`bench: ${file} skipped: ${err?.message ?? err}`);
    }
  }
  return rows;
}

/** Runs the sections in order; returns the machine and every row. */
export async function runBench({ mode = 'quick', only, log = () => {} } = {}) {
  const names = only?.length ? only : Object.keys(SECTIONS);
  const rows = [];
  const timings = {};
  for (const name of names) {
    const section = SECTIONS[name];
    if (!section) throw new Error(`bench: no section ${name} (have: ${Object.keys(SECTIONS).join(', ')})`);
    const t0 = performance.now();
    log(`bench: ${name}…`);
    rows.push(...(await section(mode)));
    timings[name] = Math.round((performance.now() - t0) / 100) / 10;
    log(`bench: ${name} done in ${timings[name]} s`);
  }
  return { mode, machine: machine(), settings: settings(mode), timings, rows };
}

function parseArgs(argv) {
  const args = { mode: 'quick', only: undefined, json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--full') args.mode = 'full';
    else if (a === '--quick') args.mode = 'quick';
    else if (a === '--only') args.only = argv[++i].split(',');
    else if (a.startsWith('--only=')) args.only = a.slice(7).split(',');
    else if (a === '--json') args.json = argv[++i];
    else throw new Error(`bench: unknown argument ${a}`);
  }
  return args;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = parseArgs(process.argv.slice(2));
  const load0 = loadavg()[0];
  const t0 = performance.now();
  const result = await runBench({ ...args, log: (m) => console.error(m) });
  const m = result.machine;
  console.log(
    `\nonbehalf benchmarks (${result.mode}) on ${m.cpus}× ${m.model}, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}`,
  );
  console.log(
    `load average ${load0.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end; ${Math.round((performance.now() - t0) / 1000)} s in all\n`,
  );
  console.log(table(result.rows));
  const notes = result.rows.filter((r) => r.note).map((r) => `- ${r.name}: ${r.note}`);
  if (notes.length) console.log(`\n${notes.join('\n')}`);
  if (args.json)
    writeFileSync(args.json, `${JSON.stringify({ ...result, loadavg: [load0, loadavg()[0]] }, null, 2)}\n`);
  // Child processes and timers of the sections must not keep the runner alive.
  process.exit(0);
}

export const RUNNER = fileURLToPath(import.meta.url);
