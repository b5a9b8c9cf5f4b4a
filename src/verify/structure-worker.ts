// The worker thread that checks a SQLite store's structure (PRAGMA integrity_check, schema, types:
// stores/sqlite-structure.ts) while the log's ranges are verified on other threads. The integrity
// check reads the whole file, as long as reading every row does: on its own connection it no longer
// runs before the ranges, but beside them. It loads the SQLite driver and the structure check only.
import { parentPort, workerData } from 'node:worker_threads';
import type { StructureProblem } from '../stores/audit-store.js';
import { openSameFile } from '../stores/file-identity.js';
import { openSqlite, type SqliteDriverName } from '../stores/sqlite-driver.js';
import { sqliteStructureProblems } from '../stores/sqlite-structure.js';

/** What the structure worker is started with. */
export interface StructureWorkerData {
  path: string;
  /** The file the store opened (`file-identity.ts`): any other file at `path` is refused. */
  identity: string;
  driver?: SqliteDriverName;
  /** Tests only: fail by throwing or by ending the thread. */
  fail?: 'throw' | 'exit';
}

/** What it posts, once. */
export type StructureWorkerMessage =
  | { type: 'done'; problems: StructureProblem[] }
  | { type: 'error'; message: string };

function check(data: StructureWorkerData): StructureWorkerMessage {
  try {
    if (data.fail === 'exit') process.exit(70);
    if (data.fail === 'throw') throw new Error('forced failure');
    const db = openSameFile(data.path, data.identity, () =>
      openSqlite(data.path, { readonly: true, driver: data.driver }),
    );
    try {
      return { type: 'done', problems: sqliteStructureProblems(db) };
    } finally {
      db.close();
    }
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { type: 'error', message: e?.code ? `${e.code}: ${e.message}` : String(e?.message ?? err) };
  }
}

if (parentPort) parentPort.postMessage(check(workerData as StructureWorkerData));
