// Before and after: two `node bench/run.mjs --json FILE` runs side by side, row by row (matched by
// section and name), as a Markdown table of values and of both ratios.
//   node bench/compare.mjs before.json after.json [--renamed 'OLD NAME=NEW NAME' ...]
// A row is the same row when its section, name and baseline match; --renamed pairs a row whose name
// changed between the two runs.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const renamed = new Map();
for (let i = args.indexOf('--renamed'); i >= 0; i = args.indexOf('--renamed')) {
  const [from, to] = args.splice(i, 2)[1].split('=');
  renamed.set(from, to);
}
const [beforeFile, afterFile] = args;
if (!beforeFile || !afterFile) {
  console.error('usage: node bench/compare.mjs BEFORE.json AFTER.json');
  process.exit(2);
}
const load = (f) => JSON.parse(readFileSync(f, 'utf8'));
const before = load(beforeFile);
const after = load(afterFile);
const key = (r, rename = (n) => n) =>
  `${r.section}\u0000${rename(r.name)}\u0000${r.baselineName === null ? '' : rename(r.baselineName)}`;
const newName = (n) => renamed.get(n) ?? n;
const old = new Map(before.rows.map((r) => [key(r, newName), r]));

const num = (v) =>
  v === null || v === undefined || !Number.isFinite(v)
    ? ''
    : Math.abs(v) >= 100
      ? Math.round(v).toLocaleString('en-US')
      : Number(v.toPrecision(4)).toString();
const ratio = (v) => (v === null || v === undefined ? '' : `${v.toFixed(2)}×`);
const goal = (r) => (r?.goal ? `${r.goal} ${r.met ? '(met)' : '(missed)'}` : '');

const load1 = (run) => (Array.isArray(run.loadavg) ? run.loadavg.map((l) => l.toFixed(1)).join(' → ') : '?');
const lines = [
  `load average (1 min) at start → end: before ${load1(before)}, after ${load1(after)}`,
  '',
  '| section | case | unit | before | after | ratio before | ratio after | vs floor before | vs floor after | goal (after) |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
];
for (const r of after.rows) {
  const b = old.get(key(r));
  lines.push(
    `| ${r.section} | ${r.name}${r.baselineName ? ` (ratio vs ${r.baselineName})` : ''} | ${r.unit} | ${num(b?.value)} | ${num(r.value)} | ${ratio(b?.ratio)} | ${ratio(r.ratio)} | ${ratio(b?.floorRatio)} | ${ratio(r.floorRatio)} | ${goal(r)} |`,
  );
}
const gone = before.rows.filter((r) => !after.rows.some((a) => key(a) === key(r, newName)));
for (const r of gone)
  lines.push(
    `| ${r.section} | ${r.name} (not in the after run) | ${r.unit} | ${num(r.value)} | | ${ratio(r.ratio)} | | | | |`,
  );
console.log(lines.join('\n'));
