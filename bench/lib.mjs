// Shared pieces of the benchmark sections: run settings, rows, throughput timing, the results table.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

/**
 * Settings of a run. `quick` keeps `npm run bench` to a couple of minutes; `full` runs longer and
 * at the sizes the goals are stated for (1M events). `tiny` only proves the code still runs (tests).
 */
export function settings(mode = 'quick') {
  if (mode === 'full') {
    return {
      mode,
      mitata: { min_cpu_time: 2_000 * 1e6 },
      appendMs: 3_000,
      rounds: 7,
      verifyEvents: 1_000_000,
      memoryEvents: 1_000_000,
      httpMarks: [500, 6_000, 6_000],
      httpConcurrency: 8,
      httpRounds: 3,
    };
  }
  if (mode === 'tiny') {
    return {
      mode,
      mitata: { min_cpu_time: 5 * 1e6, min_samples: 2, max_samples: 4, warmup_samples: 1 },
      appendMs: 30,
      rounds: 1,
      verifyEvents: 500,
      memoryEvents: 2_000,
      httpMarks: [10, 20, 20],
      httpConcurrency: 4,
      httpRounds: 1,
    };
  }
  return {
    mode: 'quick',
    mitata: { min_cpu_time: 400 * 1e6 },
    appendMs: 600,
    rounds: 5,
    verifyEvents: 200_000,
    memoryEvents: 200_000,
    httpMarks: [500, 4_000, 3_000],
    httpConcurrency: 8,
    httpRounds: 2,
  };
}

/**
 * One line of the results table. `value` is in `unit`; `ratio` is value / baseline value, so for
 * times lower is better and for rates higher is better (`better` says which).
 */
export function row({ section, name, value, unit, better, baseline, floor, goal, note }) {
  const ratio = baseline ? value / baseline.value : null;
  // A second ratio, against the floor (the baseline plus the durable write the case cannot avoid).
  const floorRatio = floor ? value / floor.value : null;
  return {
    section,
    name,
    value,
    unit,
    better,
    baselineName: baseline?.name ?? null,
    ratio,
    floorName: floor?.name ?? null,
    floorRatio,
    goal: goal?.text ?? null,
    met: goal ? goal(ratio, value, floorRatio) : null,
    note: note ?? null,
  };
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Events per second of `batch` (which does `size` events and may be async), as the median of
 * `rounds` rounds of at least `ms` each. Rounds are interleaved by the caller with the baseline's,
 * so drift of the machine (page cache, WAL growth, thermal) falls on both alike.
 */
export async function rate(batch, size, ms) {
  let n = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  do {
    await batch();
    n += size;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (elapsed * 1000 < ms);
  return n / elapsed;
}

/** Runs `a` and `b` alternately `rounds` times; the medians of each. */
export async function interleaved(rounds, a, b) {
  const as = [];
  const bs = [];
  for (let i = 0; i < rounds; i++) {
    if (i % 2) {
      bs.push(await b());
      as.push(await a());
    } else {
      as.push(await a());
      bs.push(await b());
    }
  }
  return [median(as), median(bs)];
}

/** A fresh directory for a section's files, removed by the returned function. */
export function scratch(prefix) {
  const dir = mkdtempSync(join(tmpdir(), `onbehalf-bench-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** What the figures were measured on. */
export function machine() {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    const lscpu = execFileSync('lscpu', { encoding: 'utf8' });
    model = /^Model name:\s*(.+)$/m.exec(lscpu)?.[1]?.trim() ?? model;
  } catch {
    // lscpu is Linux-only; os.cpus() is good enough elsewhere.
  }
  return {
    cpus: cpus().length,
    model,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

function fmtValue(v, unit) {
  if (!Number.isFinite(v)) return String(v);
  if (unit === 'events/s' || unit === 'req/s' || unit === 'hashes/s')
    return Math.round(v).toLocaleString('en-US');
  if (unit === 'MiB') return v.toFixed(1);
  return v < 10 ? v.toFixed(3) : v < 100 ? v.toFixed(2) : v.toFixed(1);
}

/** The results as a Markdown table (it reads as plain text in a terminal too). */
export function table(rows) {
  const head = [
    'section',
    'case',
    'median',
    'unit',
    'vs baseline',
    'ratio',
    'vs floor',
    'floor ratio',
    'goal',
    'met',
  ];
  const body = rows.map((r) => [
    r.section,
    r.name,
    fmtValue(r.value, r.unit),
    r.unit,
    r.baselineName ?? '',
    r.ratio === null ? '' : `${r.ratio.toFixed(2)}×`,
    r.floorName ?? '',
    r.floorRatio == null ? '' : `${r.floorRatio.toFixed(2)}×`,
    r.goal ?? '',
    r.met === null ? '' : r.met ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => String(b[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** A goal on a ratio, printable. */
export const atMost = (x) => Object.assign((r) => r !== null && r <= x, { text: `≤ ${x}×` });
export const atLeast = (x) => Object.assign((r) => r !== null && r >= x, { text: `≥ ${x}×` });
/** A goal on the ratio against the floor. */
export const floorAtLeast = (x) =>
  Object.assign((_r, _v, f) => f !== null && f >= x, { text: `≥ ${x}× floor` });
export const below = (x) => Object.assign((r) => r !== null && r < x, { text: `< ${x}×` });
/** A goal on the value itself, e.g. an absolute rate. */
export const valueAtLeast = (x, unit) =>
  Object.assign((_r, v) => v >= x, { text: `≥ ${x.toLocaleString('en-US')} ${unit}` });
export const allOf = (...goals) =>
  Object.assign((r, v) => goals.every((g) => g(r, v)), { text: goals.map((g) => g.text).join(' and ') });
