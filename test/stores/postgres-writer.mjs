// One writer process of the fleet test: appends COUNT events to the PostgreSQL store at URL under its
// own origin, several appends in flight at once, then prints {origin, stored} as JSON.
// Usage: node postgres-writer.mjs URL TAG COUNT KEY_DIR
import { randomBytes } from 'node:crypto';
import { PostgresAuditStore } from '../../dist/stores/postgres-store.js';

const [url, tag, count, keyDir] = process.argv.slice(2);
const total = Number(count);
const store = new PostgresAuditStore(url, { keyDir, checkpointEvery: 50 });

const event = (i) => ({
  event_id: `evt-${tag}-${i}-${randomBytes(4).toString('hex')}`,
  record_type: 'action',
  timestamp: new Date().toISOString(),
  actor_type: 'agent',
  actor_id: `nhi:${tag}`,
  actor_name: `agent-${tag}`,
  owner_id: 'tom',
  on_behalf_of: 'tom',
  trigger_type: 'email',
  trigger_id: `msg-${i}`,
  intent: 'triage_inbox',
  session_id: null,
  delegation_chain: JSON.stringify(['tom', `nhi:${tag}`]),
  scopes: null,
  action: i % 2 ? 'send_mail' : 'read_inbox',
  target: `mailbox/${i}`,
  risk_tier: i % 4,
  result: 'ok',
  policy_decision: 'allow',
  policy_rule: null,
  approval_state: null,
  approved_by: null,
  provenance: 'local',
  tool_arguments: null,
  redactions: null,
  trace_id: randomBytes(16).toString('hex'),
  span_id: randomBytes(8).toString('hex'),
  parent_span_id: null,
  service_name: `host-${tag}`,
  duration_ms: i / 3,
  attributes: null,
});

let stored = 0;
let i = 0;
while (i < total) {
  // Up to four appends in flight: the store must still chain them in one order.
  const inFlight = [];
  for (let k = 0; k < 4 && i < total; k++) {
    const size = Math.min(1 + ((i * 7 + k) % 9), total - i);
    inFlight.push(store.append(Array.from({ length: size }, (_, j) => event(i + j))));
    i += size;
  }
  for (const rows of await Promise.all(inFlight)) stored += rows.length;
}
await store.close();
process.stdout.write(JSON.stringify({ origin: store.origin, stored }));
