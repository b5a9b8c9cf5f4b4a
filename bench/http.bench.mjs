// Section 4: propagation. Inject/extract µs per call against the plain W3C propagators (the rows of
// propagation.bench.mjs), and requests/s of a loopback HTTP service, client and server each in their
// own process, with full onbehalf against plain OpenTelemetry with the same instrumentation.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateSigningKey, writeKeyPair } from '../dist/keys/index.js';
import { atLeast, median, row, scratch, settings } from './lib.mjs';

const CHILD = fileURLToPath(new URL('./http-child.mjs', import.meta.url));

/** The propagator micro-benchmarks, as rows of this runner. */
export async function propagationRows() {
  const { run } = await import('./propagation.bench.mjs');
  const raw = await run({ print: false });
  const rows = [];
  for (const r of raw) {
    const baseline = r.baselineName ? rows.find((x) => x.name === r.baselineName) : undefined;
    rows.push(
      row({
        section: 'propagation',
        name: r.name,
        value: r.medianNs / 1000,
        unit: 'µs',
        better: 'lower',
        baseline,
      }),
    );
  }
  return rows;
}

function child(args) {
  // No exporter on either side, and nothing from the caller's OTEL_* settings.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(OTEL|ONBEHALF)_/.test(k)));
  const p = fork(CHILD, args, {
    execArgv: process.env.BENCH_CHILD_PROF
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CHILD_PROF}`]
      : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...env, OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' },
  });
  return p;
}

async function message(p, what) {
  const exited = once(p, 'exit').then(([code]) => {
    throw new Error(`http bench ${what}: child exited with ${code} before answering`);
  });
  const [m] = await Promise.race([once(p, 'message'), exited]);
  return m;
}

/** Requests/s of one client/server pair of the given flavour. */
async function pair(flavour, dir, requests, concurrency, perTrace) {
  const server = child(['server', flavour, dir]);
  try {
    const { port } = await message(server, `${flavour} server`);
    const client = child([
      'client',
      flavour,
      dir,
      String(port),
      String(requests),
      String(concurrency),
      String(perTrace),
    ]);
    const { rps } = await message(client, `${flavour} client`);
    server.send('stop');
    const report = await message(server, `${flavour} server stop`);
    if (report.unattributed)
      throw new Error(`http bench ${flavour}: ${report.unattributed} requests had no server span`);
    if (flavour !== 'otel' && report.stored < requests)
      throw new Error(`http bench: the server audited ${report.stored} of ${report.handled} requests`);
    return rps;
  } finally {
    // Given a moment to exit by itself, so a profile (BENCH_CHILD_PROF) is written.
    if (server.exitCode === null)
      await Promise.race([once(server, 'exit'), new Promise((r) => setTimeout(r, 2000))]);
    if (server.exitCode === null) server.kill();
  }
}

export async function run({ mode = 'quick', http = true } = {}) {
  const s = settings(mode);
  const rows = await propagationRows();
  if (!http) return rows;
  const tmp = scratch('http');
  try {
    writeKeyPair(join(tmp.dir, 'keys'), generateSigningKey(), { actors: ['agent:nhi:agent-7f3'] });
    const n = s.httpRequests;
    const c = s.httpConcurrency;
    const results = { otel: [], onbehalf1: [], onbehalf10: [], group10: [] };
    // Interleaved, so a busy moment of the machine does not land on one flavour only.
    for (let i = 0; i < s.httpRounds; i++) {
      results.otel.push(await pair('otel', tmp.dir, n, c, 1));
      results.onbehalf1.push(await pair('onbehalf', tmp.dir, n, c, 1));
      results.onbehalf10.push(await pair('onbehalf', tmp.dir, n, c, 10));
      results.group10.push(await pair('onbehalf-group', tmp.dir, n, c, 10));
    }
    const what = `${n} requests, concurrency ${c}`;
    const base = row({
      section: 'http',
      name: `plain OpenTelemetry (NodeSDK + HttpInstrumentation), ${what}`,
      value: median(results.otel),
      unit: 'req/s',
      better: 'higher',
    });
    rows.push(
      base,
      row({
        section: 'http',
        name: 'onbehalf (startOnbehalf: attribution, audit per event, signed propagation), 1 request per trace',
        value: median(results.onbehalf1),
        unit: 'req/s',
        better: 'higher',
        baseline: base,
        goal: atLeast(0.9),
        note: 'every request signs a new token (client) and verifies it uncached (server)',
      }),
      row({
        section: 'http',
        name: 'onbehalf, same, 10 requests per trace',
        value: median(results.onbehalf10),
        unit: 'req/s',
        better: 'higher',
        baseline: base,
        goal: atLeast(0.9),
        note: 'the token is signed once per trace and verified once, then cached',
      }),
      row({
        section: 'http',
        name: 'onbehalf, same, 10 requests per trace, audit group commit',
        value: median(results.group10),
        unit: 'req/s',
        better: 'higher',
        baseline: base,
        goal: atLeast(0.9),
        note: "commit: 'group' (ONBEHALF_COMMIT=group): one transaction every few ms instead of one per request",
      }),
    );
    return rows;
  } finally {
    tmp.remove();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { table } = await import('./lib.mjs');
  console.log(table(await run({ mode: process.argv.includes('--full') ? 'full' : 'quick' })));
}
