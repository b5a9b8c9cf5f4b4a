import { createPublicKey } from 'node:crypto';
import { fault, type VerificationFault } from '../errors/verification-fault.js';
import type { TrustedKey } from '../keys/keys.js';
import { verifyCheckpoint } from '../log-format/checkpoint.js';
import { cosignedAt, parseCosignerVkey, type WitnessIdentity } from './cosignature.js';

/**
 * C2SP tlog-policy (https://c2sp.org/tlog-policy): which logs and witnesses are known and the quorum of
 * witnesses whose cosignatures make a checkpoint valid. Lines: `log <vkey> [url]`,
 * `witness <name> <vkey> [url]`, `group <name> all|any|<k> <member>…`, `quorum <name>`; `#` comments.
 */

/** A parsed policy. */
export interface WitnessPolicy {
  logs: TrustedKey[];
  witnesses: Map<string, WitnessIdentity & { url?: string }>;
  groups: Map<string, { threshold: number; members: string[] }>;
  /** A witness or group name, or `none`. */
  quorum: string;
}

/** Thrown for a policy file that is not valid; the message names the line. */
export class PolicyError extends Error {
  override name = 'PolicyError';
}

function logKey(vkey: string, where: string): TrustedKey {
  const [name, hex, ...rest] = vkey.split('+');
  const blob = Buffer.from(rest.join('+'), 'base64');
  if (!name || !hex || blob.length !== 33 || blob[0] !== 0x01)
    throw new PolicyError(`${where}: log vkey is not an Ed25519 signed-note key`);
  const x = blob.subarray(1).toString('base64url');
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
  return {
    kid: `${name}+${hex}`,
    publicKey,
    jwk: { kty: 'OKP', crv: 'Ed25519', x, onbehalf_origins: [name] } as TrustedKey['jwk'],
  };
}

/** Parses a policy file's text. */
export function parsePolicy(text: string): WitnessPolicy {
  const policy: WitnessPolicy = { logs: [], witnesses: new Map(), groups: new Map(), quorum: '' };
  const defined = (name: string) => policy.witnesses.has(name) || policy.groups.has(name);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the spec allows only tab and newline
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text)) throw new PolicyError('policy: control characters');
  text.split('\n').forEach((raw, i) => {
    const where = `policy line ${i + 1}`;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [keyword, ...args] = line.split(/[ \t]+/);
    if (keyword === 'log') {
      if (args.length < 1 || args.length > 2) throw new PolicyError(`${where}: log <vkey> [url]`);
      policy.logs.push(logKey(args[0]!, where));
    } else if (keyword === 'witness') {
      if (args.length < 2 || args.length > 3) throw new PolicyError(`${where}: witness <name> <vkey> [url]`);
      const [name, vkey, url] = args as [string, string, string | undefined];
      if (name === 'none' || defined(name)) throw new PolicyError(`${where}: name ${name} is taken`);
      let identity: WitnessIdentity;
      try {
        identity = parseCosignerVkey(vkey);
      } catch (err) {
        throw new PolicyError(`${where}: ${(err as Error).message}`);
      }
      policy.witnesses.set(name, { ...identity, url });
    } else if (keyword === 'group') {
      const [name, k, ...members] = args;
      if (!name || !k || members.length === 0)
        throw new PolicyError(`${where}: group <name> all|any|<k> <member>…`);
      if (name === 'none' || defined(name)) throw new PolicyError(`${where}: name ${name} is taken`);
      for (const m of members)
        if (!defined(m)) throw new PolicyError(`${where}: member ${m} is not defined on an earlier line`);
      if (new Set(members).size !== members.length)
        throw new PolicyError(`${where}: a member is listed twice`);
      const threshold =
        k === 'all' ? members.length : k === 'any' ? 1 : /^[1-9][0-9]*$/.test(k) ? Number(k) : 0;
      if (threshold < 1 || threshold > members.length)
        throw new PolicyError(`${where}: threshold ${k} is not all, any or 1..${members.length}`);
      policy.groups.set(name, { threshold, members });
    } else if (keyword === 'quorum') {
      if (policy.quorum) throw new PolicyError(`${where}: a second quorum line`);
      if (args.length !== 1 || (args[0] !== 'none' && !defined(args[0]!)))
        throw new PolicyError(`${where}: quorum <name> of a witness or group defined earlier, or none`);
      policy.quorum = args[0]!;
    } else throw new PolicyError(`${where}: unknown keyword ${JSON.stringify(keyword)}`);
  });
  if (!policy.quorum) throw new PolicyError('policy: no quorum line');
  return policy;
}

/** What a policy says of one checkpoint note. */
export interface PolicyVerdict {
  ok: boolean;
  /** Names of the witnesses whose cosignature on it verified. */
  cosignedBy: string[];
  /** Why not, when `ok` is false. */
  fault?: VerificationFault;
}

/**
 * Whether a checkpoint note meets the policy: signed by one of its logs (when it lists any) and
 * cosigned by a quorum of its witnesses.
 */
export function checkPolicy(policy: WitnessPolicy, note: string): PolicyVerdict {
  const split = note.lastIndexOf('\n\n');
  const body = note.slice(0, split + 1);
  const lines = note
    .slice(split + 2)
    .split('\n')
    .filter((l) => l !== '');
  const cosignedBy = [...policy.witnesses]
    .filter(([, w]) => cosignedAt(body, lines, w) !== undefined)
    .map(([n]) => n);
  if (policy.logs.length > 0 && !verifyCheckpoint(note, policy.logs).ok)
    return {
      ok: false,
      cosignedBy,
      fault: fault('witness.log_unknown', 'not signed by a log the policy lists'),
    };
  const met = (name: string): boolean => {
    if (name === 'none') return true;
    const group = policy.groups.get(name);
    if (!group) return cosignedBy.includes(name);
    return group.members.filter(met).length >= group.threshold;
  };
  if (!met(policy.quorum))
    return {
      ok: false,
      cosignedBy,
      fault: fault(
        'witness.quorum_unmet',
        `quorum ${policy.quorum} not met: cosigned by ${cosignedBy.length ? cosignedBy.join(', ') : 'no witness'}`,
      ),
    };
  return { ok: true, cosignedBy };
}
