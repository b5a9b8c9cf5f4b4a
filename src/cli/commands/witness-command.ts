import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { newestAnchor } from '../../consistency/anchor-dir.js';
import { formatFault } from '../../errors/verification-fault.js';
import { loadSigningKey, loadTrustedKeys } from '../../keys/keys.js';
import { parseCheckpoint } from '../../log-format/checkpoint.js';
import { oneLine } from '../../text/safe-text.js';
import { cosignerVkey } from '../../witness/cosignature.js';
import { checkPolicy, PolicyError, parsePolicy, type WitnessPolicy } from '../../witness/policy.js';
import { withCosignatures } from '../../witness/submit.js';
import { startWitness } from '../../witness/witness-server.js';
import { CliError, EXIT } from '../errors.js';

type Out = (s: string) => void;

/** The options `onbehalf witness` parses (declared in the CLI's registry). */
export interface WitnessOptions {
  listen?: string;
  state?: string;
  key?: string;
  'trusted-keys'?: string;
  name?: string;
}

/** `onbehalf witness …`: runs until SIGINT or SIGTERM. */
export async function witnessCommand(values: WitnessOptions, out: Out): Promise<number> {
  const { listen, state, key, name } = values;
  const keys = values['trusted-keys'];
  if (!listen || !state || !key || !keys)
    throw new CliError('witness: --listen, --state, --key and --trusted-keys are required');
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new CliError(`witness: --listen ${listen}: expected HOST:PORT`);
  const witnessName = name ?? `onbehalf-witness/${host}`;
  if (/[\s+]/.test(witnessName)) throw new CliError(`witness: --name ${witnessName}: no spaces or '+'`);
  const signingKey = loadSigningKey(key);
  const running = await startWitness(
    { name: witnessName, key: signingKey, logKeys: await loadTrustedKeys(keys), statePath: state },
    host,
    port,
  );
  out(
    `witness ${witnessName} listening on ${running.url}\nvkey ${cosignerVkey(witnessName, signingKey.publicKey)}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await running.close();
  return EXIT.ok;
}

/** Reads a tlog-policy file; a bad one is unusable input. */
export function loadPolicy(file: string): WitnessPolicy {
  try {
    return parsePolicy(readFileSync(file, 'utf8'));
  } catch (e) {
    if (e instanceof PolicyError) throw new CliError(`--witness-policy ${file}: ${e.message}`);
    throw new CliError(`--witness-policy ${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
}

/**
 * `verify … --witness-policy FILE`: each log's newest checkpoint in the checkpoint directories, with
 * the cosignatures kept beside it, must meet the policy's quorum. Returns the exit code to merge with
 * verify's: 0 met for every log, 3 not.
 */
export function witnessQuorum(
  policyFile: string,
  paths: readonly string[],
  origins: readonly string[],
  out: Out,
): number {
  const policy = loadPolicy(policyFile);
  const dirs = paths.filter((p) => existsSync(p) && statSync(p).isDirectory());
  let exit: number = EXIT.ok;
  for (const origin of origins) {
    const anchors = dirs.map((d) => newestAnchor(d, origin)).filter((a) => a !== undefined);
    const newest = anchors.sort((a, b) => b.checkpoint.size - a.checkpoint.size)[0];
    if (!newest?.file) {
      out(`UNWITNESSED  ${oneLine(origin)}: no checkpoint of it in the --checkpoint directories\n`);
      exit = EXIT.unvouched;
      continue;
    }
    const v = checkPolicy(policy, withCosignatures(newest.file, newest.note));
    const size = newest.checkpoint.size;
    if (v.ok)
      out(
        `witnessed  ${oneLine(origin)} at size ${size}: cosigned by ${v.cosignedBy.join(', ') || 'none needed'} (quorum ${policy.quorum} met)\n`,
      );
    else {
      out(`UNWITNESSED  ${oneLine(origin)} at size ${size}: ${oneLine(v.fault && formatFault(v.fault))}\n`);
      exit = EXIT.unvouched;
    }
  }
  return exit;
}

/** The notes of `--checkpoint` directories with the cosignatures kept beside each. */
export function cosignedNotes(paths: readonly string[]): string[] {
  const notes: string[] = [];
  for (const p of paths) {
    if (!existsSync(p) || !statSync(p).isDirectory()) continue;
    for (const name of readdirSync(p).filter((n) => n.endsWith('.note'))) {
      const file = join(p, name);
      const note = readFileSync(file, 'utf8');
      try {
        parseCheckpoint(note);
      } catch {
        continue;
      }
      notes.push(withCosignatures(file, note));
    }
  }
  return notes;
}
