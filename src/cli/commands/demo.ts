import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { CARE_ASSISTANT } from '../../demo/care-assistant.js';
import { DEMO_POLICY, HOSTILE_TRIGGER, INBOX_AGENT, runDemoScenario } from '../../demo/scenario.js';
import type { StoredAuditEvent } from '../../pipeline/event.js';
import { startOnbehalf } from '../../sdk/start.js';
import { isPostgresUrl, openAuditStore } from '../../stores/open.js';
import { PostgresAuditStore } from '../../stores/postgres-store.js';
import { openSqlite } from '../../stores/sqlite-driver.js';
import { SqliteAuditStore } from '../../stores/sqlite-store.js';
import { verifyAuditStore } from '../../verify/verify-store.js';
import { CliError } from '../errors.js';
import { actorLabel, formatEvents, triggerLabel } from '../format.js';

/** The demo's own store, so it never mixes with a real audit store. */
export const DEMO_STORE = './onbehalf-demo.db';

/** The seed's two queries, exactly as a security team would type them. */
export const SEED_QUERIES = {
  agent: "select * from audit_events\nwhere actor_type = 'agent'\norder by timestamp desc;",
  trigger: "select * from audit_events\nwhere trigger_id = 'msg-8821'\norder by timestamp asc;",
} as const;

/**
 * `onbehalf demo`: the seed scenario end to end on embedded defaults. Writes the story to a fresh
 * SQLite store, prints the log line a naive setup would have written and the one onbehalf writes,
 * runs the seed's two queries and verifies the store.
 */
export async function demo(
  storePath: string = DEMO_STORE,
  out: (s: string) => void = process.stdout.write.bind(process.stdout),
) {
  const postgres = isPostgresUrl(storePath);
  // PostgreSQL is append-only for everyone: the demo cannot start it afresh, so it writes under an
  // origin of its own, next to earlier demo runs only, and reads back this run's rows.
  const origin = postgres ? await demoOrigin(storePath) : undefined;
  if (!postgres) replaceDemoStore(storePath);
  const onbehalf = startOnbehalf({
    store: postgres
      ? new PostgresAuditStore(storePath, { origin })
      : new SqliteAuditStore(storePath, { purpose: 'demo' }),
    serviceName: 'inbox-agent',
    instrumentations: [],
    policy: DEMO_POLICY,
    // The story names its own actors; a process default from the environment would only blur it.
    env: { ...process.env, ONBEHALF_AGENT_ID: '' },
  });
  const { denied } = await runDemoScenario();
  await onbehalf.shutdown();

  const store = postgres
    ? await openAuditStore(storePath)
    : new SqliteAuditStore(storePath, { readonly: true });
  try {
    const queries = origin ? onlyOrigin(origin) : SEED_QUERIES;
    const agentRows = (await store.sql(queries.agent)) as unknown as StoredAuditEvent[];
    const triggerRows = (await store.sql(queries.trigger)) as unknown as StoredAuditEvent[];
    const verified = await verifyAuditStore(store);
    const sent = triggerRows.find((r) => r.action === 'send_mail' && r.record_type === 'action');
    if (!sent) throw new CliError('demo: the send_mail action was not recorded');
    const time = sent.timestamp.slice(11, 16);
    out(`onbehalf demo: the 03:14 incident of the seed story, recorded in ${storePath}\n\n`);
    out(`# Before: attribution erased  (logged at ${time}, Tom was asleep)\n`);
    out(`user=${sent.on_behalf_of}  action=${sent.action}  to=${sent.target}  result=${sent.result}\n\n`);
    out('# After: attribution restored\n');
    out(`actor=${actorLabel(sent)}  on_behalf_of=${sent.on_behalf_of}  action=${sent.action}\n`);
    out(`  to=${sent.target}  trigger=${triggerLabel(sent)}  result=${sent.result}\n\n`);
    out(`-- Everything the agent did, separate from everything the human did directly:\n${queries.agent}\n`);
    out(formatEvents(agentRows, 'table'));
    out(
      `\n-- Every action one hostile message set in motion (your incident timeline):\n${queries.trigger}\n`,
    );
    out(formatEvents(triggerRows, 'table'));
    out(
      `\n${denied} action was denied by policy and did not run. ` +
        `Store ${verified.ok ? 'intact' : 'BROKEN'}: ${verified.count} events in a hash chain, ` +
        `${verified.logs.reduce((n, l) => n + l.checkpointsVerified, 0)} signed checkpoint(s) verified.\n\n`,
    );
    const cli = cliCommand();
    out('Try next:\n');
    out(`  ${cli} verify ${storePath}\n`);
    out(`  ${cli} timeline ${storePath} --trigger ${HOSTILE_TRIGGER.id}\n`);
    out(`  ${cli} query ${storePath} --actor ${INBOX_AGENT.id} --format json\n`);
    out(`  ${cli} sql ${storePath} "select actor_type, count(*) from audit_events group by actor_type"\n`);
    out(`  ${cli} report ${storePath} --trigger ${HOSTILE_TRIGGER.id} --out incident.html\n`);
    out(
      `  ${cli} query ${storePath} --actor ${CARE_ASSISTANT.name} --target 'patient/*' --day last-tuesday\n`,
    );
    out("  (the README's Auditor's questions: one command each on this store)\n");
  } finally {
    await store.close();
  }
}

/** The seed's queries, narrowed to one demo run's origin (PostgreSQL keeps every run). */
function onlyOrigin(origin: string): Record<keyof typeof SEED_QUERIES, string> {
  const quoted = `'${origin.replaceAll("'", "''")}'`;
  return {
    agent: SEED_QUERIES.agent.replace('\norder by', `\n  and origin = ${quoted}\norder by`),
    trigger: SEED_QUERIES.trigger.replace('\norder by', `\n  and origin = ${quoted}\norder by`),
  };
}

/**
 * A fresh origin for a demo run on PostgreSQL. The demo refuses a database that holds anything but
 * earlier demo runs: its story must never mix with a real audit trail.
 */
async function demoOrigin(url: string): Promise<string> {
  const existing = await openAuditStore(url);
  try {
    const foreign = (await existing.origins()).filter((o) => !o.startsWith(DEMO_ORIGIN_PREFIX));
    if (foreign.length > 0) {
      throw new CliError(
        `demo: ${redactUrl(url)} holds the audit trail of ${foreign.length} other writer(s); the demo writes only to an empty database or one holding earlier demo runs (createdb onbehalf_demo)`,
      );
    }
  } finally {
    await existing.close();
  }
  return `${DEMO_ORIGIN_PREFIX}${new Date().toISOString()}/${randomBytes(3).toString('hex')}`;
}

/** Origins of demo runs on PostgreSQL start with this. */
export const DEMO_ORIGIN_PREFIX = 'onbehalf-demo/';

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** `npx onbehalf` once installed; in a clone of this repository, the built script itself. */
function cliCommand(): string {
  const script = process.argv[1] ?? '';
  if (!script || script.includes(`${sep}node_modules${sep}`)) return 'npx onbehalf';
  return `node ${relative(process.cwd(), script) || script}`;
}

/** The demo starts from an empty store; it only ever replaces a store the demo itself made. */
function replaceDemoStore(path: string): void {
  if (!existsSync(path)) return;
  let purpose: string | undefined;
  try {
    const db = openSqlite(path, { readonly: true });
    try {
      purpose = (
        db.prepare("SELECT value FROM audit_meta WHERE key = 'purpose'").get() as
          | { value: string }
          | undefined
      )?.value;
    } finally {
      db.close();
    }
  } catch {
    purpose = undefined;
  }
  if (purpose !== 'demo') {
    throw new CliError(
      `demo: ${resolve(path)} exists and is not a demo store; refusing to replace it (use --store)`,
    );
  }
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
}
