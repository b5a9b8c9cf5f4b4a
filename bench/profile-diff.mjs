// Where one CPU profile spends more than another, per request: self time per function in the
// steady window of each profile (60 % to 95 % of its duration, past warm-up and before shutdown),
// idle left out, each scaled so its window totals the server CPU µs per request the run reported.
//   node bench/profile-diff.mjs BASE.cpuprofile BASE_US OTHER.cpuprofile OTHER_US [ROWS]
// e.g. the server profiles `node bench/profile-http.mjs otel 100 DIR` and `… onbehalf-nostore 100 DIR`
// write (the first file of each pair is the server's), with the µs each of those runs printed.
import { readFileSync } from 'node:fs';

function selfTimes(file, from = 0.6, to = 0.95) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const duration = p.endTime - p.startTime;
  const self = new Map();
  let total = 0;
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    const at = (t - p.startTime) / duration;
    const frame = byId.get(p.samples[i]).callFrame;
    if (at < from || at > to || frame.functionName === '(idle)') continue;
    const key = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/.*\/(node_modules|dist)\//, '$1/')}:${frame.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  return { self, total };
}

const [baseFile, baseUs, otherFile, otherUs, rows = '40'] = process.argv.slice(2);
if (!otherUs) {
  console.error(
    'usage: node bench/profile-diff.mjs BASE.cpuprofile BASE_US OTHER.cpuprofile OTHER_US [ROWS]',
  );
  process.exit(2);
}
const base = selfTimes(baseFile);
const other = selfTimes(otherFile);
const scaleBase = Number(baseUs) / base.total;
const scaleOther = Number(otherUs) / other.total;
const diff = [...new Set([...base.self.keys(), ...other.self.keys()])].map((key) => {
  const mine = (other.self.get(key) ?? 0) * scaleOther;
  return [key, mine - (base.self.get(key) ?? 0) * scaleBase, mine];
});
diff.sort((a, b) => b[1] - a[1]);
console.log("µs per request more than the base (the other profile's own µs), per function, self time");
for (const [key, more, mine] of diff.slice(0, Number(rows))) {
  console.log(`${more.toFixed(2).padStart(8)} (${mine.toFixed(2)})  ${key}`);
}
