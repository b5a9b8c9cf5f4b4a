// What a caller can make the store say about who acted: each attack of the trust model against the real
// SDK (startOnbehalf, http instrumentation, a BaggageSpanProcessor beside onbehalf) and the example tool
// service on loopback, run as the two-services README runs it (no ONBEHALF_AGENT_ID). None may end in
// provenance=verified or a claimed value in a column.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BaggageSpanProcessor } from '@opentelemetry/baggage-span-processor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAttribution } from '../../src/attribution/attribution.js';
import { generateSigningKey } from '../../src/keys/keys.js';
import type { StoredAuditEvent } from '../../src/pipeline/event.js';
import { signAttributionToken } from '../../src/propagation/attribution-token.js';
import { readRows } from '../helpers/audit.js';
import { boundPublicJwk } from '../helpers/keys.js';
import { rawGet } from '../helpers/raw-http.js';
import { cliMain, ensureBuilt, scratchDir } from './support.js';

const run = promisify(execFile);
const agentKey = generateSigningKey();
let dir: string;
let store: string;
let port: number;
let service: { url: string; close(): Promise<void> };

beforeAll(async () => {
  await ensureBuilt();
  dir = scratchDir('identity');
  store = join(dir, 'tool-service.db');
  process.env.OTEL_METRICS_EXPORTER = 'none';
  process.env.OTEL_LOGS_EXPORTER = 'none';
  writeFileSync(
    join(dir, 'jwks.json'),
    JSON.stringify({ keys: [boundPublicJwk(agentKey, 'agent:nhi:agent-7f3')] }),
  );
  const { startToolService } = await import('../../examples/two-services/tool-service.mjs');
  service = await startToolService({
    trustedKeys: join(dir, 'jwks.json'),
    store,
    traceExporter: false,
    // Copies every baggage entry onto every span, as an app may install beside onbehalf.
    spanProcessors: [new BaggageSpanProcessor(() => true)],
    env: {},
  });
  port = Number(new URL(service.url).port);
});
afterAll(async () => {
  await service?.close();
});

let n = 0;
const traceId = () => `${(++n).toString(16).padStart(8, '0')}${'a'.repeat(24)}`;
const spanId = () => `${(n * 7919).toString(16).padStart(16, '0')}`;

/** Sends one request and returns the audit row the tool service stored for it. */
async function attack(headers: Record<string, string>): Promise<StoredAuditEvent> {
  const order = `A-${n}-${Math.random().toString(36).slice(2, 8)}`;
  const res = await rawGet(port, `/orders/${order}`, headers);
  expect(res.status).toBe(200);
  const rows = readRows(store, `target = '${order}' AND record_type = 'action'`);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

function expectNothingVerifiedOrClaimed(row: StoredAuditEvent): void {
  expect(row.provenance).not.toBe('verified');
  expect(row.actor_type).toBeNull();
  expect(row.actor_id).toBeNull();
  expect(row.on_behalf_of).toBeNull();
  expect(row.trigger_id).toBeNull();
  expect(row.intent).toBeNull();
}

const signed = (attribution: Parameters<typeof parseAttribution>[0], trace: string, extra = {}) =>
  signAttributionToken(parseAttribution(attribution), { key: agentKey, traceId: trace, ...extra }) as string;

describe('1. a trusted key speaks only for the actors bound to it', () => {
  it("the agent's key signing Tom as a human actor, or another agent acting for the CEO, is not verified", async () => {
    for (const forged of [
      { actor: { type: 'human' as const, id: 'tom' }, principal: { id: 'tom', type: 'human' as const } },
      { actor: { type: 'agent' as const, id: 'nhi:payments-agent' }, principal: { id: 'ceo' } },
    ]) {
      const trace = traceId();
      const row = await attack({
        traceparent: `00-${trace}-${spanId()}-01`,
        baggage: `attribution.token=${signed(forged, trace)}`,
      });
      expectNothingVerifiedOrClaimed(row);
    }
  });

  it('control: the same key signing its own agent is verified', async () => {
    const trace = traceId();
    const row = await attack({
      traceparent: `00-${trace}-${spanId()}-01`,
      baggage: `attribution.token=${signed({ actor: { type: 'agent', id: 'nhi:agent-7f3' }, principal: { id: 'tom' } }, trace)}`,
    });
    expect(row).toMatchObject({ provenance: 'verified', actor_id: 'nhi:agent-7f3', on_behalf_of: 'tom' });
  });
});

describe('2. baggage is read as OpenTelemetry core reads it, and attribution.* never reaches the app', () => {
  it('percent-encoded keys, and entries after 64 fillers, do not reach the span through a BaggageSpanProcessor', async () => {
    const fillers = Array.from({ length: 64 }, (_, i) => `f${i}=v`).join(',');
    for (const baggage of [
      'attribution%2Eprovenance=verified,attribution%2Eactor%2Etype=human,attribution%2Eactor%2Eid=tom,attribution%2Eprincipal%2Eid=ceo',
      `${fillers},attribution.provenance=verified,attribution.actor.type=human,attribution.actor.id=tom,attribution.principal.id=ceo`,
    ]) {
      const row = await attack({ traceparent: `00-${traceId()}-${spanId()}-01`, baggage });
      expectNothingVerifiedOrClaimed(row);
      expect(row.provenance).toBe('unverified');
      expect(row.attributes ?? '').not.toMatch(/"attribution\.(provenance|actor\.type)":"(verified|human)"/);
    }
  });
});

describe('3. claims fill only attribution.claimed.*', () => {
  it('plain actor, trigger and intent entries fill no column, and timeline --trigger does not list the row', async () => {
    const row = await attack({
      traceparent: `00-${traceId()}-${spanId()}-01`,
      baggage:
        'attribution.actor.type=human,attribution.actor.id=tom,attribution.trigger.type=email,attribution.trigger.id=msg-8821,attribution.intent.name=cover-up',
    });
    expectNothingVerifiedOrClaimed(row);
    const claimed = JSON.parse(row.attributes ?? '{}');
    expect(claimed).toMatchObject({
      'attribution.claimed.actor.type': 'human',
      'attribution.claimed.trigger.id': 'msg-8821',
      'attribution.claimed.intent.name': 'cover-up',
    });
    const timeline = await run(process.execPath, [cliMain, 'timeline', store, '--trigger', 'msg-8821']);
    expect(timeline.stdout).toMatch(/no actions with trigger msg-8821/);
    const query = await run(process.execPath, [cliMain, 'query', store, '--limit', '3']);
    expect(query.stdout.split('\n')[0]).toMatch(/provenance$/);
  });
});

describe('4. a captured request cannot be replayed; aud and nbf are honored', () => {
  it('the same token and traceparent sent twice: the second is not verified', async () => {
    const trace = traceId();
    const headers = {
      traceparent: `00-${trace}-${spanId()}-01`,
      baggage: `attribution.token=${signed({ actor: { type: 'agent', id: 'nhi:agent-7f3' }, principal: { id: 'tom' } }, trace)}`,
    };
    expect((await attack(headers)).provenance).toBe('verified');
    const replayed = await attack(headers);
    expectNothingVerifiedOrClaimed(replayed);
  });

  it('a token meant for another service is not verified here', async () => {
    const trace = traceId();
    const token = signed({ actor: { type: 'agent', id: 'nhi:agent-7f3' }, principal: { id: 'tom' } }, trace, {
      audience: 'billing',
    });
    const row = await attack({
      traceparent: `00-${trace}-${spanId()}-01`,
      baggage: `attribution.token=${token}`,
    });
    expectNothingVerifiedOrClaimed(row);
  });
});
