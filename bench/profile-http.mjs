// One loopback HTTP pair of the benchmark (bench/http.bench.mjs) with a CPU profile of each side:
//   node bench/profile-http.mjs <flavour> [perTrace] [dir]
// e.g. `node bench/profile-http.mjs onbehalf-nostore 100 /tmp/prof`: the server's and the client's
// .cpuprofile land in DIR (open them in Chrome DevTools, or summarize the self time per function).
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateSigningKey, writeKeyPair } from '../dist/keys/index.js';
import { scratch, settings } from './lib.mjs';

const [flavour = 'onbehalf-nostore', perTrace = '100', out = 'bench-profiles'] = process.argv.slice(2);
process.env.BENCH_CHILD_PROF = resolve(out);
mkdirSync(process.env.BENCH_CHILD_PROF, { recursive: true });
const { pair } = await import('./http.bench.mjs');
const tmp = scratch('http-profile');
try {
  writeKeyPair(join(tmp.dir, 'keys'), generateSigningKey(), { actors: ['agent:nhi:agent-7f3'] });
  const s = settings('quick');
  const result = await pair(flavour, tmp.dir, s.httpMarks, s.httpConcurrency, Number(perTrace));
  console.log(
    `${flavour} (${perTrace} per trace): ${Math.round(result.rps.steady ?? 0)} req/s steady; server CPU ${result.cpu.steady.toFixed(1)} µs/request steady (user ${result.cpu.userSteady.toFixed(1)}); profiles in ${process.env.BENCH_CHILD_PROF}`,
  );
} finally {
  tmp.remove();
}
