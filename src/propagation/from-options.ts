import type { Attribution } from '../attribution/attribution.js';
import { ENV } from '../config/env.js';
import { loadSigningKey, type SigningKey, type TrustedKey } from '../keys/keys.js';
import { AttributionPropagator } from './attribution-propagator.js';
import { TrustedKeySet } from './trusted-key-set.js';

/** The key options of `startOnbehalf`, each defaulting from the environment. */
export interface PropagationKeyOptions {
  /** This process's signing key, or the path of its private JWK; `ONBEHALF_SIGNING_KEY` by default. */
  signingKey?: SigningKey | string;
  /** Keys trusted to sign inbound attribution, or a JWKS file path or URL; `ONBEHALF_TRUSTED_KEYS` by default. */
  trustedKeys?: readonly TrustedKey[] | string;
  /** This service's names, which inbound tokens must carry in `aud`; `ONBEHALF_AUDIENCE` by default. */
  audience?: string | readonly string[];
  /** The services this process calls, put in its tokens' `aud`; `ONBEHALF_TOKEN_AUDIENCE` by default. */
  tokenAudience?: string | readonly string[];
}

/** This process's signing key from options or `ONBEHALF_SIGNING_KEY`, loaded now; undefined when none is set. */
export function resolveSigningKey(
  options: PropagationKeyOptions,
  env: Record<string, string | undefined> = process.env,
): SigningKey | undefined {
  const keyOption = options.signingKey ?? (env[ENV.signingKey]?.trim() || undefined);
  return typeof keyOption === 'string' ? loadSigningKey(keyOption) : keyOption;
}

/**
 * The {@link AttributionPropagator} of a process, from options or the environment. Files are read now,
 * synchronously, so a broken key fails start-up instead of leaving the process silently unsigned; a
 * JWKS URL loads in the background (tokens stay unverified, and counted, until it has).
 * @throws KeyError naming the file and what is wrong with it.
 */
export function attributionPropagatorFrom(
  options: PropagationKeyOptions,
  env: Record<string, string | undefined> = process.env,
  signingKey: SigningKey | undefined = resolveSigningKey(options, env),
  defaultAttribution?: Readonly<Attribution>,
): AttributionPropagator {
  const trustedOption = options.trustedKeys ?? (env[ENV.trustedKeys]?.trim() || undefined);
  const trustedKeys = trustedOption === undefined ? undefined : new TrustedKeySet(trustedOption);
  return new AttributionPropagator({
    signingKey,
    trustedKeys,
    defaultAttribution,
    audience: options.audience ?? listFrom(env[ENV.audience]),
    tokenAudience: options.tokenAudience ?? listFrom(env[ENV.tokenAudience]),
  });
}

function listFrom(value: string | undefined): string[] | undefined {
  const names = (value ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  return names.length > 0 ? names : undefined;
}
