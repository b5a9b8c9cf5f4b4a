// Section 4: propagation. Inject/extract µs per call against the plain W3C propagators (the rows of
// propagation.bench.mjs), and requests/s of a loopback HTTP service, client and server each in their
// own process, with full onbehalf against plain OpenTelemetry with the same instrumentation.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateSigningKey, writeKeyPair } from '../dist/keys/index.js';
import { atLeast, atMost, floorAtLeast, median, row, scratch, settings } from './lib.mjs';

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
        // The token's own cost beside Ed25519's: claims, JSON, base64url and checks.
        goal: /^(signAttributionToken|verifyAttributionToken)/.test(r.name) ? atMost(1.5) : undefined,
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

/** One client/server pair of the given flavour: the client's req/s (cold, steady) and the server's CPU. */
export async function pair(flavour, dir, marks, concurrency, perTrace) {
  const server = child(['server', flavour, dir, marks.join(',')]);
  try {
    const { port } = await message(server, `${flavour} server`);
    const client = child([
      'client',
      flavour,
      dir,
      String(port),
      marks.join(','),
      String(concurrency),
      String(perTrace),
    ]);
    const { rps } = await message(client, `${flavour} client`);
    server.send('stop');
    const report = await message(server, `${flavour} server stop`);
    const requests = marks[1] + marks[2];
    if (report.unattributed)
      throw new Error(`http bench ${flavour}: ${report.unattributed} requests had no server span`);
    if (flavour !== 'otel' && !flavour.endsWith('nostore') && report.stored < requests)
      throw new Error(
        `http bench ${flavour}: the server stored ${report.stored} of ${report.handled} requests`,
      );
    return { rps, cpu: report.cpu };
  } finally {
    // Given a moment to exit by itself, so a profile (BENCH_CHILD_PROF) is written.
    if (server.exitCode === null)
      await Promise.race([once(server, 'exit'), new Promise((r) => setTimeout(r, 2000))]);
    if (server.exitCode === null) server.kill();
  }
}

/** The cases: flavour, requests per trace, label. Floors first: every onbehalf row names its floor. */
const CASES = [
  { key: 'otel', flavour: 'otel', perTrace: 1, label: 'plain OpenTelemetry (NodeSDK + HttpInstrumentation)' },
  {
    key: 'floor-per-event',
    flavour: 'floor-per-event',
    perTrace: 1,
    label: 'floor: plain OTel + raw insert of the same row, committed per event',
  },
  {
    key: 'floor-turn',
    flavour: 'floor-turn',
    perTrace: 1,
    label: 'floor: plain OTel + raw insert, one commit per turn, response after it',
  },
  {
    key: 'floor-group',
    flavour: 'floor-group',
    perTrace: 1,
    label: 'floor: plain OTel + raw insert, group commit every 10 ms',
  },
  {
    key: 'nostore-1',
    flavour: 'onbehalf-nostore',
    perTrace: 1,
    base: 'otel',
    label: 'onbehalf without a store (attribution + signed propagation), token per request',
  },
  {
    key: 'nostore-100',
    flavour: 'onbehalf-nostore',
    perTrace: 100,
    base: 'otel',
    goal: 'nostore',
    label: 'onbehalf without a store, token cached (100 requests per trace)',
  },
  {
    key: 'turn-1',
    flavour: 'onbehalf-turn',
    perTrace: 1,
    floor: 'floor-turn',
    label: "onbehalf, commit 'turn' (default), token per request",
  },
  {
    key: 'turn-100',
    flavour: 'onbehalf-turn',
    perTrace: 100,
    floor: 'floor-turn',
    goal: 'floor',
    label: "onbehalf, commit 'turn' (default), token cached",
  },
  {
    key: 'per-event-100',
    flavour: 'onbehalf-per-event',
    perTrace: 100,
    floor: 'floor-per-event',
    label: "onbehalf, commit 'per-event', token cached",
  },
  {
    key: 'group-100',
    flavour: 'onbehalf-group',
    perTrace: 100,
    floor: 'floor-group',
    label: "onbehalf, commit 'group', token cached",
  },
];

export async function run({ mode = 'quick', http = true } = {}) {
  const s = settings(mode);
  const rows = await propagationRows();
  if (!http) return rows;
  const tmp = scratch('http');
  try {
    writeKeyPair(join(tmp.dir, 'keys'), generateSigningKey(), { actors: ['agent:nhi:agent-7f3'] });
    const marks = s.httpMarks;
    const c = s.httpConcurrency;
    const results = Object.fromEntries(CASES.map((k) => [k.key, []]));
    // Interleaved, so a busy moment of the machine does not land on one flavour only.
    for (let i = 0; i < s.httpRounds; i++) {
      for (const k of CASES) results[k.key].push(await pair(k.flavour, tmp.dir, marks, c, k.perTrace));
    }
    const of = (key, pick) => median(results[key].map(pick));
    const steady = {};
    const cold = {};
    const capacity = {};
    const userCapacity = {};
    const what = `concurrency ${c}, ${marks[2]} requests measured after ${marks[1]} warm-up; cold: the first ${marks[0]}`;
    for (const k of CASES) {
      const base = k.key === 'otel' ? undefined : steady[k.base ?? 'otel'];
      const floor = k.floor ? steady[k.floor] : undefined;
      const goal = k.goal === 'floor' ? floorAtLeast(0.8) : k.goal === 'nostore' ? atLeast(0.9) : undefined;
      steady[k.key] = row({
        section: 'http',
        name: `${k.label}: steady`,
        value: of(k.key, (r) => r.rps.steady),
        unit: 'req/s',
        better: 'higher',
        baseline: base,
        floor,
        goal,
        note: k.key === 'otel' ? what : undefined,
      });
      cold[k.key] = row({
        section: 'http',
        name: `${k.label}: cold`,
        value: of(k.key, (r) => r.rps.cold),
        unit: 'req/s',
        better: 'higher',
        baseline: k.key === 'otel' ? undefined : cold[k.base ?? 'otel'],
        floor: k.floor ? cold[k.floor] : undefined,
      });
      // Server CPU per request as requests per core-second: what the server's own work allows,
      // whatever the client and the machine's other load did to the wall clock.
      capacity[k.key] = row({
        section: 'http',
        name: `${k.label}: server capacity (1 / server CPU per request), steady`,
        value: 1e6 / of(k.key, (r) => r.cpu.steady),
        unit: 'req/s',
        better: 'higher',
        baseline: k.key === 'otel' ? undefined : capacity[k.base ?? 'otel'],
        floor: k.floor ? capacity[k.floor] : undefined,
        goal,
        note:
          k.key === 'otel'
            ? `server CPU µs per request, per block of 500 (warm-up ends where it stops falling): ${results.otel[0].cpu.blocks.map((b) => Math.round(b)).join(', ')}`
            : undefined,
      });
      // The same with user CPU alone. Kernel time writing the response to the socket depends on the
      // client's rhythm (a write that wakes an idle peer costs more), not on the server's own work.
      userCapacity[k.key] = row({
        section: 'http',
        name: `${k.label}: server capacity, user CPU only, steady`,
        value: 1e6 / of(k.key, (r) => r.cpu.userSteady),
        unit: 'req/s',
        better: 'higher',
        baseline: k.key === 'otel' ? undefined : userCapacity[k.base ?? 'otel'],
        floor: k.floor ? userCapacity[k.floor] : undefined,
      });
    }
    for (const k of CASES) rows.push(steady[k.key], cold[k.key], capacity[k.key], userCapacity[k.key]);
    return rows;
  } finally {
    tmp.remove();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { table } = await import('./lib.mjs');
  console.log(table(await run({ mode: process.argv.includes('--full') ? 'full' : 'quick' })));
}
