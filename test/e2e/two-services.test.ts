// Two processes over real loopback HTTP: the agent (a child process running examples/two-services/agent.mjs)
// calls the tool service (examples/two-services/tool-service.mjs, started here so its spans can be read).
import { execFile } from 'node:child_process';
import { sign } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAttribution } from '../../src/attribution/attribution.js';
import { generateSigningKey, privateJwk, type SigningKey } from '../../src/keys/keys.js';
import {
  ATTRIBUTION_TOKEN_TYPE,
  attributionToClaims,
  signAttributionToken,
} from '../../src/propagation/attribution-token.js';
import { inboxAgentColumns } from '../helpers/inbox-agent-row.js';
import { boundPublicJwk } from '../helpers/keys.js';
import { rawGet as rawRequest } from '../helpers/raw-http.js';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '../helpers/trace-sdk.js';

const repo = join(import.meta.dirname, '../..');
const example = join(repo, 'examples/two-services');
const run = promisify(execFile);

const agentKey = generateSigningKey();
const rotatedKey = generateSigningKey();
const stranger = generateSigningKey();
const spans = new InMemorySpanExporter();
let tmp: string;
let service: { url: string; close(): Promise<void> };
let port: number;

beforeAll(async () => {
  if (!existsSync(join(repo, 'dist/index.js'))) await run('npm', ['run', 'build'], { cwd: repo });
  tmp = mkdtempSync(join(tmpdir(), 'onbehalf-two-services-'));
  // The SDK reads these from process.env: no OTLP metrics/logs endpoint runs here, traces are read in memory.
  process.env.OTEL_METRICS_EXPORTER = 'none';
  process.env.OTEL_LOGS_EXPORTER = 'none';
  // The agent's key rotated: both public keys are trusted while callers move over.
  // Each key speaks for the two agents of the agent process (the inbox agent and its calendar sub-agent).
  const agents = ['agent:nhi:agent-7f3', 'agent:nhi:agent-c21'];
  writeFileSync(
    join(tmp, 'jwks.json'),
    JSON.stringify({ keys: [boundPublicJwk(agentKey, ...agents), boundPublicJwk(rotatedKey, ...agents)] }),
  );
  for (const [name, key] of [
    ['agent', agentKey],
    ['rotated', rotatedKey],
  ] as const)
    writeFileSync(join(tmp, `${name}.jwk`), JSON.stringify(privateJwk(key)));
  const { startToolService } = await import('../../examples/two-services/tool-service.mjs');
  service = await startToolService({
    trustedKeys: join(tmp, 'jwks.json'),
    store: join(tmp, 'tool-service.db'),
    traceExporter: false,
    spanProcessors: [new SimpleSpanProcessor(spans)],
    env: { ONBEHALF_AGENT_ID: 'svc:tool-service' },
  });
  port = Number(new URL(service.url).port);
});

afterAll(async () => {
  await service?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface Seen {
  order: { orderId: string };
  attribution: {
    actor: { id: string };
    principal?: { id: string };
    delegationChain?: string[];
    provenance?: string;
    trigger?: { id: string };
  } | null;
}

async function runAgent(keyFile: string): Promise<{ direct: Seen; delegated: Seen }> {
  const { stdout } = await run(process.execPath, [join(example, 'agent.mjs')], {
    cwd: repo,
    env: {
      PATH: process.env.PATH ?? '',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      ONBEHALF_SIGNING_KEY: join(tmp, keyFile),
      ONBEHALF_STORE: join(tmp, 'agent.db'),
      TOOL_URL: service.url,
    },
  });
  return JSON.parse(stdout.trim().split('\n').pop() as string);
}

/** The audited tool span of one order, as the tool service recorded it. */
function toolSpan(orderId: string, traceId?: string): ReadableSpan {
  const found = spans
    .getFinishedSpans()
    .filter(
      (s) =>
        s.attributes['attribution.target'] === orderId && (!traceId || s.spanContext().traceId === traceId),
    );
  expect(found.length).toBeGreaterThan(0);
  return found[found.length - 1] as ReadableSpan;
}

const rawGet = (path: string, headers: Record<string, string>) => rawRequest(port, path, headers);

const tom = parseAttribution({
  actor: { type: 'agent', id: 'nhi:agent-7f3', name: 'inbox-agent', ownerId: 'tom' },
  principal: { id: 'tom', type: 'human' },
  trigger: { type: 'email', id: 'msg-8821' },
  delegationChain: ['tom', 'nhi:agent-7f3'],
});
const traceA = '4bf92f3577b34da6a3ce929d0e0e4736';
const traceB = '0af7651916cd43dd8448eb211c80319c';
const traceparent = (traceId: string) => `00-${traceId}-00f067aa0ba902b7-01`;
const now = () => Math.floor(Date.now() / 1000);
function handmade(header: object, claims: object, key: SigningKey | null): string {
  const h = Buffer.from(JSON.stringify(header)).toString('base64url');
  const p = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const s = key ? sign(null, Buffer.from(`${h}.${p}`), key.privateKey).toString('base64url') : '';
  return `${h}.${p}.${s}`;
}
const header = { alg: 'EdDSA', typ: ATTRIBUTION_TOKEN_TYPE, kid: agentKey.kid };

describe('two services over loopback HTTP', () => {
  it('a signed call arrives verified with the agent, Tom, the trigger and the full delegation chain', async () => {
    const r = await runAgent('agent.jwk');
    expect(r.direct.attribution).toMatchObject({
      actor: { id: 'nhi:agent-7f3' },
      principal: { id: 'tom' },
      trigger: { id: 'msg-8821' },
      provenance: 'verified',
    });
    expect(r.delegated.attribution?.delegationChain).toEqual(['tom', 'nhi:agent-7f3', 'nhi:agent-c21']);
    expect(r.delegated.attribution?.provenance).toBe('verified');
    const direct = toolSpan('A-1001').attributes;
    expect(direct['attribution.actor.id']).toBe('nhi:agent-7f3');
    expect(direct['gen_ai.agent.name']).toBe('inbox-agent');
    expect(direct['attribution.principal.id']).toBe('tom');
    expect(direct['user.id']).toBe('tom');
    expect(direct['attribution.trigger.type']).toBe('email');
    expect(direct['attribution.trigger.id']).toBe('msg-8821');
    expect(direct['attribution.provenance']).toBe('verified');
    const delegated = toolSpan('A-1002').attributes;
    expect(delegated['attribution.actor.id']).toBe('nhi:agent-c21');
    expect(delegated['attribution.delegation.chain']).toEqual(['tom', 'nhi:agent-7f3', 'nhi:agent-c21']);
    expect(delegated['attribution.provenance']).toBe('verified');
    // The tool service's audit store says the same: the agent acted, for Tom, because of msg-8821, verified.
    const db = new Database(join(tmp, 'tool-service.db'), { readonly: true });
    const rows = db
      .prepare(
        "SELECT * FROM audit_events WHERE action = 'lookup_order' AND target IN ('A-1001', 'A-1002') ORDER BY seq",
      )
      .all() as Record<string, unknown>[];
    db.close();
    expect(rows.slice(-2)).toMatchObject([
      {
        ...inboxAgentColumns(
          'actor_type',
          'actor_id',
          'actor_name',
          'owner_id',
          'on_behalf_of',
          'trigger_type',
          'trigger_id',
        ),
        provenance: 'verified',
        delegation_chain: '["tom","nhi:agent-7f3"]',
      },
      {
        actor_id: 'nhi:agent-c21',
        ...inboxAgentColumns('on_behalf_of', 'trigger_id'),
        provenance: 'verified',
        delegation_chain: '["tom","nhi:agent-7f3","nhi:agent-c21"]',
      },
    ]);
  });

  it('a rotated key keeps the actor id continuous', async () => {
    const before = await runAgent('agent.jwk');
    const after = await runAgent('rotated.jwk');
    expect(agentKey.kid).not.toBe(rotatedKey.kid);
    expect(after.direct.attribution?.provenance).toBe('verified');
    expect(after.direct.attribution?.actor.id).toBe(before.direct.attribution?.actor.id);
    expect(toolSpan('A-1001').attributes['attribution.actor.id']).toBe('nhi:agent-7f3');
  });

  const plain = 'attribution.principal.id=tom,attribution.actor.id=nhi:agent-7f3';
  const attacks: [string, () => string][] = [
    [
      'forged (a stranger key under its own kid)',
      () => signAttributionToken(tom, { key: stranger, traceId: traceA }) as string,
    ],
    [
      'signed with the wrong key under the agent kid',
      () => handmade(header, attributionToClaims(tom, traceA, now()), stranger),
    ],
    ['expired', () => handmade(header, attributionToClaims(tom, traceA, now() - 600), agentKey)],
    ['alg none', () => handmade({ ...header, alg: 'none' }, attributionToClaims(tom, traceA, now()), null)],
    [
      'trace-swapped (bound to another trace)',
      () => signAttributionToken(tom, { key: agentKey, traceId: traceB }) as string,
    ],
    [
      'tampered (principal changed after signing)',
      () => {
        const [h, , s] = (signAttributionToken(tom, { key: agentKey, traceId: traceA }) as string).split('.');
        const p = Buffer.from(
          JSON.stringify({ ...attributionToClaims(tom, traceA, now()), sub: 'ceo' }),
        ).toString('base64url');
        return `${h}.${p}.${s}`;
      },
    ],
  ];
  for (const [name, make] of attacks) {
    it(`the same call with a ${name} token arrives unverified`, async () => {
      const orderId = `X-${name.split(' ')[0]}`;
      const res = await rawGet(`/orders/${orderId}`, {
        traceparent: traceparent(traceA),
        baggage: `attribution.token=${make()},${plain}`,
      });
      expect(res.status).toBe(200);
      const seen = JSON.parse(res.body) as Seen;
      expect(seen.attribution?.provenance).toBe('unverified');
      const attrs = toolSpan(orderId, traceA).attributes;
      expect(attrs['attribution.provenance']).toBe('unverified');
      expect(attrs['attribution.principal.id']).toBeUndefined();
      expect(attrs['attribution.claimed.principal.id']).toBe('tom');
      expect(attrs['attribution.actor.id']).toBe('svc:tool-service');
    });
  }

  it('the control: a correctly signed raw call is verified (so the attacks above fail for their flaw)', async () => {
    const token = signAttributionToken(tom, { key: agentKey, traceId: traceA }) as string;
    const res = await rawGet('/orders/CONTROL', {
      traceparent: traceparent(traceA),
      baggage: `attribution.token=${token},${plain}`,
    });
    expect((JSON.parse(res.body) as Seen).attribution?.provenance).toBe('verified');
    expect(toolSpan('CONTROL', traceA).attributes['attribution.principal.id']).toBe('tom');
  });

  it('a plain `baggage: attribution.principal.id=ceo` from an outside caller never makes ceo the principal', async () => {
    const res = await rawGet('/orders/CEO', {
      traceparent: traceparent(traceB),
      baggage: 'attribution.principal.id=ceo',
    });
    expect((JSON.parse(res.body) as Seen).attribution?.provenance).toBe('unverified');
    const attrs = toolSpan('CEO', traceB).attributes;
    expect(attrs['attribution.principal.id']).toBeUndefined();
    expect(attrs['user.id']).toBeUndefined();
    expect(attrs['attribution.claimed.principal.id']).toBe('ceo');
  });

  it('survives oversized and malformed baggage', async () => {
    const hostile = [
      `attribution.token=${'A'.repeat(12_000)}`,
      Array.from({ length: 400 }, (_, i) => `k${i}=${'v'.repeat(20)}`).join(','),
      'attribution.principal.id=%E0%A4%A,;;=;,==,attribution.token=..',
    ];
    for (const [i, baggage] of hostile.entries()) {
      const res = await rawGet(`/orders/H-${i}`, { traceparent: traceparent(traceB), baggage });
      expect(res.status).toBe(200);
      expect(toolSpan(`H-${i}`, traceB).attributes['attribution.principal.id']).toBeUndefined();
    }
    // Still serving verified calls afterwards.
    expect((await runAgent('agent.jwk')).direct.attribution?.provenance).toBe('verified');
  });
});
