// Nothing lost at the edges, on PostgreSQL: its appends are asynchronous, so an app that exits, crashes
// or is signalled right after an action cannot send the queued event. It must not vanish: the writer
// leaves a note beside its key synchronously, and the next writer of the store writes it as a gap
// record, which verify and query show. Each run is a real child process with the real SDK and a real
// PostgreSQL store.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresAuditStore } from '../../src/stores/postgres-store.js';
import { verifyAuditStore } from '../../src/verify/verify-store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres-db.js';
import { runProcess } from '../helpers/run-process.js';
import { cliMain, ensureBuilt, repo, scratchDir } from './support.js';

const fixture = join(repo, 'test/fixtures/edges/pg-exit-writer.mjs');
let dir: string;
beforeAll(async () => {
  await ensureBuilt();
  dir = scratchDir('pg-exit');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a PostgreSQL writer whose process ends right after an action', () => {
  for (const [mode, ending] of [
    ['exit', 'process.exit()'],
    ['throw', 'an uncaught exception'],
    ['app-sigterm', "the app's own SIGTERM handler calling process.exit"],
    ['sigterm', 'SIGTERM with no handler'],
  ] as const) {
    describe(ending, () => {
      let db: TestDatabase;
      beforeAll(async () => {
        db = await createTestDatabase(`pg_exit_${mode.replace('-', '_')}`);
      }, 30_000);
      afterAll(() => db?.drop());

      it('loses no event silently: the next writer records a gap that verify and query show', async () => {
        const cwd = join(dir, mode);
        mkdirSync(cwd, { recursive: true });
        const child = spawnSync(process.execPath, [fixture, db.url, mode], {
          cwd,
          encoding: 'utf8',
          timeout: 60_000,
        });
        if (mode === 'throw') expect(child.status).toBe(1);
        if (mode === 'sigterm') expect(child.signal).toBe('SIGTERM');
        if (mode === 'exit' || mode === 'app-sigterm') expect(child.status, child.stderr).toBe(0);
        // The note is on disk beside the writer's key until the next writer takes it.
        const spool = join(cwd, 'onbehalf-keys', 'unwritten');
        expect(existsSync(spool), child.stderr).toBe(true);

        const next = new PostgresAuditStore(db.url, { keyDir: join(cwd, 'onbehalf-keys') });
        await next.ready();
        await next.close();
        expect(readdirSync(join(spool, readdirSync(spool)[0]!))).toEqual([]);

        const reader = new PostgresAuditStore(db.url, { readonly: true });
        try {
          const result = await verifyAuditStore(reader);
          expect(result.ok, result.reason).toBe(true);
          expect(result.gaps).toMatchObject({ records: 1, lost: 1 });
          expect(result.gaps.reasons).toContain('not written before the process ended');
        } finally {
          await reader.close();
        }
        const query = await runProcess(process.execPath, [
          cliMain,
          'query',
          db.url,
          '--record-type',
          'gap',
          '--format',
          'json',
        ]);
        expect(query.status, query.stderr).toBe(0);
        const [gap] = JSON.parse(query.stdout);
        expect(JSON.parse(gap.attributes)).toMatchObject({
          lost: 1,
          reasons: ['not written before the process ended'],
        });
        const verify = await runProcess(process.execPath, [cliMain, 'verify', db.url]);
        expect(verify.stdout).toMatch(
          /gaps: 1 gap record\(s\), 1 event\(s\) not recorded \(not written before the process ended\)/,
        );
      });
    });
  }
});
