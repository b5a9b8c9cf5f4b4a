// Crashes: a child process appending audited actions is killed with SIGKILL at random points, again
// and again on the same store. After each kill the store must verify, hold every action the child
// acknowledged, and be accepted by the next writer (no false `tampered`).
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTrustedKeysFile } from '../../src/keys/keys.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { ensureBuilt, fixtures, scratchDir, verifyPath } from './support.js';

let dir: string;

beforeAll(async () => {
  await ensureBuilt();
  dir = scratchDir('crash');
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A small deterministic PRNG, so a failing trial can be replayed from its printed seed. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

interface Trial {
  acked: string[];
  ready: boolean;
  stderr: string;
  signal: NodeJS.Signals | null;
}

/**
 * Starts the writer and kills it with SIGKILL: `early` at a random moment after spawn (possibly while
 * it loads or opens the store), otherwise once it has acknowledged `afterAcks` actions.
 */
function crashOnce(
  path: string,
  every: number,
  tag: string,
  kill: { afterAcks: number } | { early: number },
  commit: string,
  concurrent: number,
) {
  return new Promise<Trial>((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      [join(fixtures, 'crash-writer.mjs'), path, String(every), tag, commit, String(concurrent)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const trial: Trial = { acked: [], ready: false, stderr: '', signal: null };
    let buffered = '';
    const killNow = () => child.kill('SIGKILL');
    if ('early' in kill) setTimeout(killNow, kill.early);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line === 'ready') trial.ready = true;
        else if (line.startsWith('ack ')) trial.acked.push(line.slice(4));
      }
      if ('afterAcks' in kill && trial.acked.length >= kill.afterAcks) killNow();
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      trial.stderr += chunk;
    });
    // A child that dies on its own (e.g. refusing the store) is a failure, not a crash we caused.
    const guard = setTimeout(killNow, 20_000);
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      trial.signal = signal;
      resolve(trial);
    });
  });
}

function storedTargets(path: string): Set<string> {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare("SELECT target FROM audit_events WHERE record_type = 'action'").all() as {
      target: string;
    }[];
    return new Set(rows.map((r) => r.target));
  } finally {
    db.close();
  }
}

async function runTrials(
  name: string,
  every: number,
  trials: number,
  seed: number,
  { commit = 'per-event', concurrent = 1 }: { commit?: string; concurrent?: number } = {},
) {
  const path = join(dir, `${name}.db`);
  const random = prng(seed);
  let acked = 0;
  let killedMidRun = 0;
  for (let t = 0; t < trials; t++) {
    const early = t % 5 === 4;
    const kill = early ? { early: Math.floor(random() * 400) } : { afterAcks: Math.floor(random() * 60) };
    const trial = await crashOnce(path, every, `${name}-${t}`, kill, commit, concurrent);
    const label = `${name} trial ${t} (seed ${seed}, ${JSON.stringify(kill)}): ${trial.stderr}`;
    expect(trial.signal, label).toBe('SIGKILL');
    if (!early) expect(trial.ready, label).toBe(true);
    if (!trial.ready) continue; // killed before the store existed or opened: nothing to check yet
    killedMidRun++;
    acked += trial.acked.length;
    const keys = loadTrustedKeysFile(`${path}.keys/jwks.json`);
    const result = await verifyPath(path, { trustedKeys: keys });
    // Killed before its first checkpoint, a log links but no signed checkpoint vouches for it yet.
    const log = result.logs[0];
    const unsigned = result.verdict === 'unvouched' && log?.anchoredSize === 0 && log.ok === false;
    expect(result.verdict === 'intact' || unsigned, `${label}: ${result.reason}`).toBe(true);
    // Nothing is wrong: the only fault an unsigned log has is that nothing vouches for it.
    const codes = (log?.problems ?? []).map((p) => p.code);
    expect(codes, label).toEqual(unsigned ? ['checkpoint.unvouched'] : []);
    const stored = storedTargets(path);
    const missing = trial.acked.filter((target) => !stored.has(target));
    expect(missing, label).toEqual([]);
    expect(trial.stderr, label).not.toMatch(/tampered|audit error/);
  }
  // After the last crash a writer in this process reopens the store, appends and closes cleanly.
  const writer = new SqliteAuditStore(path, { verifyOnOpen: 'full', checkpointIntervalMs: 0 });
  const [batch] = writer.readLogSync(writer.origin, 1);
  writer.appendSync([{ ...batch![0]!, event_id: `evt-${name}-after`, target: `${name}-after` }]);
  await writer.close();
  const final = await verifyPath(path, { trustedKeys: loadTrustedKeysFile(`${path}.keys/jwks.json`) });
  expect(final.ok, final.reason).toBe(true);
  expect(final.logs[0]!.checkpointsVerified).toBeGreaterThan(0);
  return { acked, killedMidRun };
}

describe('SIGKILL at random points', () => {
  it('per-event commit: acknowledged actions survive, the store verifies and reopens (13 kills)', async () => {
    const { acked, killedMidRun } = await runTrials('per-event', 50, 13, 0x5eed1);
    expect(killedMidRun).toBeGreaterThanOrEqual(10);
    expect(acked).toBeGreaterThan(100);
  }, 120_000);

  it('turn commit: every action whose audited() resolved survives, 4 at a time sharing a commit (13 kills)', async () => {
    const { acked, killedMidRun } = await runTrials('turn', 50, 13, 0x5eed3, {
      commit: 'turn',
      concurrent: 4,
    });
    expect(killedMidRun).toBeGreaterThanOrEqual(10);
    expect(acked).toBeGreaterThan(100);
  }, 120_000);

  it('checkpointing after every event: a kill mid-checkpoint never leaves a false alarm (12 kills)', async () => {
    const { acked, killedMidRun } = await runTrials('checkpoint-every-1', 1, 12, 0x5eed2);
    expect(killedMidRun).toBeGreaterThanOrEqual(9);
    expect(acked).toBeGreaterThan(100);
  }, 120_000);
});
