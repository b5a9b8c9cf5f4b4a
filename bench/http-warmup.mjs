// How the HTTP section's warm-up was chosen: a long run of one flavour (plain OpenTelemetry by
// default), printing the server's CPU µs per request per block of 500 requests. Warm-up is long
// enough once the blocks stop falling. `node bench/http-warmup.mjs [flavour] [requests]`
import { join } from 'node:path';
import { generateSigningKey, writeKeyPair } from '../dist/keys/index.js';
import { pair } from './http.bench.mjs';
import { scratch } from './lib.mjs';

const flavour = process.argv[2] ?? 'otel';
const requests = Number(process.argv[3] ?? 12_000);
const tmp = scratch('http-warmup');
try {
  writeKeyPair(join(tmp.dir, 'keys'), generateSigningKey(), { actors: ['agent:nhi:agent-7f3'] });
  const { cpu } = await pair(flavour, tmp.dir, [500, requests - 500, 500], 8, 100);
  console.log(`${flavour}: server CPU µs/request per 500 requests:`);
  console.log(cpu.blocks.map((b) => Math.round(b)).join(' '));
} finally {
  tmp.remove();
}
process.exit(0);
