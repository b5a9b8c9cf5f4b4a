// Nothing lost at the edges: an app with group commit that exits, crashes or is signalled right after an
// action; actions audited before start-up or under suppressTracing. Each run is a real child process
// with the real SDK (startOnbehalf) writing a real SQLite store.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRows } from '../helpers/audit.js';
import { ensureBuilt, repo, scratchDir, verifyPath } from './support.js';

const fixture = join(repo, 'test/fixtures/edges/exit-writer.mjs');
let dir: string;
beforeAll(async () => {
  await ensureBuilt();
  dir = scratchDir('edges');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runApp(mode: string) {
  const path = join(dir, `${mode}.db`);
  const child = spawnSync(process.execPath, [fixture, path, mode], { encoding: 'utf8', timeout: 60_000 });
  return { path, child };
}

describe('queued group-commit events and the last checkpoint survive the end of the process', () => {
  for (const [mode, ending] of [
    ['exit', 'process.exit()'],
    ['throw', 'an uncaught exception'],
    ['app-sigterm', "the app's own SIGTERM handler calling process.exit"],
    ['sigterm', 'SIGTERM with no handler'],
  ] as const) {
    it(`${ending}: the action is stored and covered by a signed checkpoint`, async () => {
      const { path, child } = runApp(mode);
      if (mode === 'throw') expect(child.status).toBe(1);
      if (mode === 'sigterm') expect(child.signal).toBe('SIGTERM');
      const rows = readRows(path);
      expect(rows.map((r) => [r.action, r.target])).toEqual([['send_mail', mode]]);
      const result = await verifyPath(path);
      expect(result.ok).toBe(true);
      expect(result.logs[0]).toMatchObject({ count: 1 });
      expect(result.logs[0]!.checkpointsVerified).toBeGreaterThan(0);
    });
  }
});

describe('actions no pipeline records leave a gap record', () => {
  it('audited() before startOnbehalf: the action ran, and the first writer records a gap for it', async () => {
    const { path, child } = runApp('before-start');
    expect(child.stderr).toMatch(/was not recorded \(no recording tracer/);
    const rows = readRows(path);
    expect(rows.map((r) => r.record_type)).toEqual(['gap', 'action']);
    expect(JSON.parse(rows[0]!.attributes!)).toMatchObject({ lost: 1 });
    expect((await verifyPath(path)).gaps).toMatchObject({ records: 1, lost: 1 });
  });

  it('audited() under suppressTracing: a gap record says an action went unrecorded', async () => {
    const { path } = runApp('suppressed');
    const rows = readRows(path);
    expect(rows.filter((r) => r.record_type === 'action').map((r) => r.action)).toEqual(['send_mail']);
    const gaps = rows.filter((r) => r.record_type === 'gap');
    expect(gaps).toHaveLength(1);
    expect(JSON.parse(gaps[0]!.attributes!)).toMatchObject({ lost: 1, reasons: ['tracing suppressed'] });
  });
});
