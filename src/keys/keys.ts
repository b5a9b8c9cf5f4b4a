import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { OnbehalfError } from '../errors/onbehalf-error.js';
import { fetchJwks } from './jwks-fetch.js';
import { boundJwk, JWK_ORIGINS_MEMBER, keyBindingOf, originMatches, parseActorRef } from './key-binding.js';

/** An Ed25519 key pair as onbehalf uses it: for signed attribution and for store checkpoints. */
export interface SigningKey {
  /** RFC 7638 thumbprint of the public key, unless the JWK file names its own `kid`. */
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicJwk: JWK;
}

/** A public key trusted to verify signatures. */
export interface TrustedKey {
  readonly kid: string;
  readonly publicKey: KeyObject;
  readonly jwk: JWK;
}

/** Thrown when a key or key set cannot be used; the message names the file and what is wrong. */
export class KeyError extends OnbehalfError {
  override name = 'KeyError';
  constructor(message: string, options?: ErrorOptions) {
    super('key.unusable', message, options);
  }
}

const isEd25519 = (jwk: JWK) => jwk.kty === 'OKP' && jwk.crv === 'Ed25519';

/** RFC 7638 thumbprint of an Ed25519 public JWK (synchronous, so keys load inside a synchronous start-up). */
export function jwkThumbprint(jwk: JWK): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
  return createHash('sha256').update(canonical).digest('base64url');
}

/** Generates an Ed25519 key pair; `kid` is the public key's RFC 7638 thumbprint. */
export function generateSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicJwk = publicKey.export({ format: 'jwk' }) as JWK;
  const kid = jwkThumbprint(publicJwk);
  return { kid, privateKey, publicKey, publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' } };
}

/** Reads a private Ed25519 JWK (e.g. `ONBEHALF_SIGNING_KEY`). */
export function loadSigningKey(path: string): SigningKey {
  const jwk = readJson(path, 'signing key') as JWK;
  if (!isEd25519(jwk) || typeof jwk.d !== 'string') {
    throw new KeyError(`signing key ${path}: not a private Ed25519 JWK (needs kty=OKP, crv=Ed25519 and d)`);
  }
  return signingKeyFromJwk(jwk, path);
}

/** Turns a private Ed25519 JWK into a {@link SigningKey}. */
export function signingKeyFromJwk(jwk: JWK, source = 'JWK'): SigningKey {
  try {
    const privateKey = createPrivateKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
    const publicKey = createPublicKey(privateKey);
    const bare = publicKey.export({ format: 'jwk' }) as JWK;
    const kid = jwk.kid ?? jwkThumbprint(bare);
    return { kid, privateKey, publicKey, publicJwk: { ...bare, kid, alg: 'EdDSA', use: 'sig' } };
  } catch (err) {
    throw new KeyError(`signing key ${source}: ${(err as Error).message}`);
  }
}

/** The private JWK of a key, for writing to a file. */
export function privateJwk(key: SigningKey): JWK {
  return { ...(key.privateKey.export({ format: 'jwk' }) as JWK), kid: key.kid, alg: 'EdDSA', use: 'sig' };
}

/** Parses a JWKS document; only Ed25519 keys are kept, and a set with none is an error. */
export function trustedKeysFromJwks(doc: unknown, source = 'JWKS'): TrustedKey[] {
  const keys = (doc as { keys?: unknown })?.keys;
  if (!Array.isArray(keys))
    throw new KeyError(`trusted keys ${source}: not a JWKS (expected {"keys": [...]})`);
  const out: TrustedKey[] = [];
  for (const [i, jwk] of (keys as JWK[]).entries()) {
    if (!jwk || !isEd25519(jwk) || typeof jwk.x !== 'string') continue;
    try {
      const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
      const kid = jwk.kid ?? jwkThumbprint(jwk);
      out.push({ kid, publicKey, jwk: { ...jwk, kid } });
    } catch (err) {
      throw new KeyError(`trusted keys ${source}: key ${i}: ${(err as Error).message}`);
    }
    // A malformed binding is an error now, not a key that silently speaks for no one.
    keyBindingOf(out[out.length - 1]!.jwk, source);
  }
  if (out.length === 0) throw new KeyError(`trusted keys ${source}: no Ed25519 public key in the set`);
  return out;
}

/** Reads trusted public keys from a JWKS file (synchronously). */
export function loadTrustedKeysFile(path: string): TrustedKey[] {
  return trustedKeysFromJwks(readJson(path, 'trusted keys'), path);
}

/** Reads trusted public keys from a JWKS file, or from an `https://` URL (see jwks-fetch.ts for its bounds). */
export async function loadTrustedKeys(fileOrUrl: string): Promise<TrustedKey[]> {
  if (/^https?:\/\//i.test(fileOrUrl)) return (await fetchJwks(fileOrUrl)).keys;
  return trustedKeysFromJwks(readJson(fileOrUrl, 'trusted keys'), fileOrUrl);
}

/** What the public key of {@link writeKeyPair} may speak for (docs/trust-model.md). */
export interface KeyPairBinding {
  /** Actors (`agent:ID`, `human:ID`, `service:ID`) whose attribution the key signs. */
  actors?: readonly string[];
  /** Store origins (exact, or a prefix ending in `/*`) whose checkpoints it signs; none when not given. */
  origins?: readonly string[];
}

/**
 * Writes `DIR/signing-key.jwk` (private, mode 0600) and `DIR/jwks.json` (public, bound to
 * `binding`'s actors and origins: a receiver verifies attribution of those actors only), replacing
 * them. Each file is written aside and renamed, so a crash never leaves a truncated key.
 * @throws KeyError when an actor is not `type:id`.
 */
export function writeKeyPair(
  dir: string,
  key: SigningKey,
  binding: KeyPairBinding = {},
): { privatePath: string; publicPath: string } {
  const actors = (binding.actors ?? []).map((a) => parseActorRef(a, '--actor'));
  const publicJwk = boundJwk(key.publicJwk, actors, binding.origins);
  mkdirSync(dir, { recursive: true });
  const { privatePath, publicPath } = keyPairPaths(dir);
  renameSync(writePartial(privatePath, privateKeyText(key), 0o600), privatePath);
  writePublicKey(dir, publicJwk);
  return { privatePath, publicPath };
}

/**
 * The key pair in `DIR`, created if there is none. Several processes may create it at the same moment
 * (two writers opening a fresh store): the private key is linked into place, which fails for all
 * but the first, and every other process then loads that one, so all sign with one key and
 * `jwks.json` names it, bound to `origins` (the logs it signs checkpoints for).
 */
export function createKeyPairOnce(dir: string, origins: readonly string[] = []): SigningKey {
  mkdirSync(dir, { recursive: true });
  const { privatePath, publicPath } = keyPairPaths(dir);
  const key = generateSigningKey();
  const partial = writePartial(privatePath, privateKeyText(key), 0o600);
  let won = true;
  try {
    linkSync(partial, privatePath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    won = false;
  } finally {
    unlinkSync(partial);
  }
  const winner = won ? key : loadSigningKey(privatePath);
  // Also repairs a jwks.json that a process killed between the two files never wrote.
  if (won || !existsSync(publicPath)) writePublicKey(dir, boundJwk(winner.publicJwk, [], origins));
  else bindKeyPairOrigins(dir, winner, origins);
  return winner;
}

/**
 * Makes `DIR/jwks.json` bind `key` to `origins` too, keeping what it already binds: a key made before
 * its store named its origin, or one a store reuses for another origin, keeps vouching for the logs it
 * signs. Written aside and renamed; a file naming another key is left alone (its owner chose it).
 */
export function bindKeyPairOrigins(dir: string, key: SigningKey, origins: readonly string[]): void {
  const { publicPath } = keyPairPaths(dir);
  if (!existsSync(publicPath)) {
    writePublicKey(dir, boundJwk(key.publicJwk, [], origins));
    return;
  }
  const doc = readJson(publicPath, 'public key') as { keys?: JWK[] };
  const listed = Array.isArray(doc?.keys) ? doc.keys.find((k) => k?.x === key.publicJwk.x) : undefined;
  if (!listed) return;
  const had = [...(keyBindingOf(listed, publicPath).origins ?? [])];
  const missing = origins.filter((o) => !had.some((pattern) => originMatches(pattern, o)));
  if (missing.length === 0) return;
  writePublicKey(dir, { ...listed, [JWK_ORIGINS_MEMBER]: [...had, ...missing] } as JWK);
}

function keyPairPaths(dir: string): { privatePath: string; publicPath: string } {
  return { privatePath: join(dir, 'signing-key.jwk'), publicPath: join(dir, 'jwks.json') };
}

function privateKeyText(key: SigningKey): string {
  return `${JSON.stringify(privateJwk(key), null, 2)}\n`;
}

/** `DIR/jwks.json` for `key`, written aside and renamed into place. */
function writePublicKey(dir: string, publicJwk: JWK): void {
  const { publicPath } = keyPairPaths(dir);
  renameSync(
    writePartial(publicPath, `${JSON.stringify({ keys: [publicJwk] }, null, 2)}\n`, 0o644),
    publicPath,
  );
}

/** Writes `text` beside `path` under a name no other process uses, and returns that name. */
function writePartial(path: string, text: string, mode: number): string {
  const partial = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.partial`;
  writeFileSync(partial, text, { mode, flag: 'wx' });
  chmodSync(partial, mode);
  return partial;
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new KeyError(
      `${what} ${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new KeyError(`${what} ${path}: not valid JSON`);
  }
}
