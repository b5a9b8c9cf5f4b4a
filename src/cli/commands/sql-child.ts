/**
 * The child process of a bounded `onbehalf sql`: opens the store read-only, runs one statement and
 * writes its rows as JSON to stdout, or `{"error": …}`. Its parent kills it when the statement runs
 * too long: SQLite offers no statement timeout a binding exposes, and a killed process stops even a
 * statement that never returns to JavaScript (a recursive CTE counting forever).
 */
import { StoreError } from '../../stores/audit-store.js';
import { openAuditStore } from '../../stores/open.js';

const [location, text] = process.argv.slice(2) as [string, string];

async function run(): Promise<string> {
  try {
    const store = await openAuditStore(location, { readonly: true });
    try {
      return JSON.stringify({ rows: await store.sql(text, { untrusted: true }) });
    } finally {
      await store.close();
    }
  } catch (e) {
    const kind = e instanceof StoreError ? e.kind : 'unusable';
    return JSON.stringify({ error: e instanceof Error ? e.message : String(e), kind });
  }
}

run().then((json) => process.stdout.write(json));
