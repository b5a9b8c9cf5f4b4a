// A trusted key speaks only for the actors (and checkpoint origins) its JWK names.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAttribution } from '../../src/attribution/attribution.js';
import { keyBindingOf, keyBoundToOrigin } from '../../src/keys/key-binding.js';
import { generateSigningKey, KeyError, trustedKeysFromJwks } from '../../src/keys/keys.js';
import { signCheckpoint, verifyCheckpoint } from '../../src/log-format/checkpoint.js';
import {
  attributionToClaims,
  signAttributionToken,
  verifyAttributionToken,
} from '../../src/propagation/attribution-token.js';
import { ensureBuilt, scratchDir } from '../adversarial/support.js';
import { boundPublicJwk, trustedKey } from '../helpers/keys.js';

const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
const agentKey = generateSigningKey();
const keyFor = (kid: string) =>
  kid === agentKey.kid ? trustedKey(agentKey, 'agent:nhi:agent-7f3') : undefined;
const sign = (a: Parameters<typeof parseAttribution>[0]) =>
  signAttributionToken(parseAttribution(a), { key: agentKey, traceId: trace }) as string;

describe('a trusted key speaks for the actors it is bound to', () => {
  it("the agent's own attribution verifies", () => {
    const r = verifyAttributionToken(
      sign({ actor: { type: 'agent', id: 'nhi:agent-7f3' }, principal: { id: 'tom' } }),
      { keyFor, traceId: trace },
    );
    expect(r.ok && r.attribution.provenance).toBe('verified');
  });

  it('the agent key claiming a human actor, or another agent acting for the CEO, is refused', () => {
    for (const forged of [
      { actor: { type: 'human' as const, id: 'tom' }, principal: { id: 'tom', type: 'human' as const } },
      { actor: { type: 'human' as const, id: 'nhi:agent-7f3' } },
      { actor: { type: 'agent' as const, id: 'nhi:payments-agent' }, principal: { id: 'ceo' } },
    ]) {
      expect(verifyAttributionToken(sign(forged), { keyFor, traceId: trace })).toMatchObject({
        ok: false,
        reason: 'unbound_actor',
      });
    }
  });

  it('a key without a binding speaks for no one', () => {
    const unbound = (kid: string) =>
      kid === agentKey.kid ? { kid, publicKey: agentKey.publicKey, jwk: agentKey.publicJwk } : undefined;
    const token = sign({ actor: { type: 'agent', id: 'nhi:agent-7f3' } });
    expect(verifyAttributionToken(token, { keyFor: unbound, traceId: trace })).toMatchObject({
      reason: 'unbound_actor',
    });
  });

  it('the binding is the current actor: earlier actors in the chain need not be bound', () => {
    const claims = attributionToClaims(
      parseAttribution({
        actor: { type: 'agent', id: 'nhi:agent-7f3' },
        principal: { id: 'tom' },
        delegationChain: ['tom', 'nhi:orchestrator', 'nhi:agent-7f3'],
      }),
      trace,
      Math.floor(Date.now() / 1000),
    );
    expect(claims.act.act?.sub).toBe('nhi:orchestrator');
    const token = sign({
      actor: { type: 'agent', id: 'nhi:agent-7f3' },
      principal: { id: 'tom' },
      delegationChain: ['tom', 'nhi:orchestrator', 'nhi:agent-7f3'],
    });
    const r = verifyAttributionToken(token, { keyFor, traceId: trace });
    expect(r.ok && r.attribution.delegationChain).toEqual(['tom', 'nhi:orchestrator', 'nhi:agent-7f3']);
  });

  it('a malformed binding fails loading, naming the key and the member', () => {
    const jwk = { ...agentKey.publicJwk, onbehalf_actors: ['nhi:agent-7f3'] };
    expect(() => trustedKeysFromJwks({ keys: [jwk] }, 'jwks.json')).toThrow(KeyError);
    expect(() => trustedKeysFromJwks({ keys: [jwk] }, 'jwks.json')).toThrow(
      /jwks\.json: key .*onbehalf_actors: "nhi:agent-7f3" is not "agent:ID"/,
    );
    expect(() =>
      trustedKeysFromJwks({ keys: [{ ...agentKey.publicJwk, onbehalf_origins: 'inbox' }] }),
    ).toThrow(/onbehalf_origins: must be an array/);
  });
});

describe('a checkpoint key speaks for the origins it is bound to', () => {
  const cp = { origin: 'inbox-agent', size: 3, root: Buffer.alloc(32, 7) };
  const note = signCheckpoint(cp, agentKey);
  const keyWith = (origins?: string[]) =>
    trustedKeysFromJwks({
      keys: [{ ...agentKey.publicJwk, ...(origins && { onbehalf_origins: origins }) }],
    });

  it('verifies for a bound origin, and for any origin when the key names none', () => {
    expect(verifyCheckpoint(note, keyWith(['inbox-agent'])).ok).toBe(true);
    expect(verifyCheckpoint(note, keyWith()).ok).toBe(true);
  });

  it('binds a prefix ending in /* and refuses a "*" anywhere else', () => {
    expect(() => keyWith(['*'])).toThrow(/"\*" may only end an origin prefix/);
    expect(() => keyWith(['onbehalf/*/x'])).toThrow(/"\*" may only end an origin prefix/);
    const hostKey = keyWith(['onbehalf/host-1/*'])[0]!;
    expect(keyBoundToOrigin(hostKey, 'onbehalf/host-1/4f2a')).toBe(true);
    expect(keyBoundToOrigin(hostKey, 'onbehalf/host-10/4f2a')).toBe(false);
    expect(keyBoundToOrigin(keyWith()[0]!, 'inbox-agent')).toBe(false);
  });

  it("refuses a checkpoint of an origin the key is not bound to: one writer cannot sign another's log", () => {
    const r = verifyCheckpoint(note, keyWith(['billing-agent']));
    expect(r.ok).toBe(false);
    expect(r.fault?.code).toBe('checkpoint.untrusted');
    expect(r.fault?.message).toMatch(/not signed by a trusted key for inbox-agent/);
  });
});

describe('onbehalf keygen --actor --origin', () => {
  const dir = scratchDir('keygen');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a public key bound to the actors and origins given, and warns when no actor is', async () => {
    await ensureBuilt();
    const cli = join(import.meta.dirname, '../../dist/cli/main.js');
    const bound = spawnSync(
      process.execPath,
      [cli, 'keygen', '--out', join(dir, 'a'), '--actor', 'agent:nhi:agent-7f3', '--origin', 'inbox-agent'],
      { encoding: 'utf8' },
    );
    expect(bound.status).toBe(0);
    const [jwk] = JSON.parse(readFileSync(join(dir, 'a/jwks.json'), 'utf8')).keys;
    const binding = keyBindingOf(jwk);
    expect([...binding.actors]).toEqual(['agent:nhi:agent-7f3']);
    expect([...(binding.origins ?? [])]).toEqual(['inbox-agent']);
    expect((boundPublicJwk(agentKey, 'agent:x') as { onbehalf_actors?: unknown }).onbehalf_actors).toEqual([
      'agent:x',
    ]);

    const unbound = spawnSync(process.execPath, [cli, 'keygen', '--out', join(dir, 'b')], {
      encoding: 'utf8',
    });
    expect(unbound.status).toBe(0);
    expect(unbound.stderr).toMatch(/no --actor given/);
    const bad = spawnSync(process.execPath, [cli, 'keygen', '--out', join(dir, 'c'), '--actor', 'tom'], {
      encoding: 'utf8',
    });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--actor: "tom" is not "agent:ID"/);
  });
});
