/**
 * Fetching a JWKS URL the way a trust anchor must be fetched: over `https:` (plain `http:` only to a
 * loopback host), never following a redirect to another origin, reading at most
 * {@link MAX_JWKS_BYTES}, and with the lifetime its `Cache-Control` gives (docs/trust-model.md).
 */
import { isIP } from 'node:net';
import { KeyError, type TrustedKey, trustedKeysFromJwks } from './keys.js';

/** Largest JWKS document read; a bigger body is refused before it is held in memory. */
export const MAX_JWKS_BYTES = 1024 * 1024;
/** Redirects followed (same origin only). */
const MAX_REDIRECTS = 3;
const TIMEOUT_MS = 5000;

/** A fetched key set and how long it may be used. */
export interface FetchedJwks {
  keys: TrustedKey[];
  /** `max-age` of the response's `Cache-Control` in seconds; 0 for `no-store`/`no-cache`; undefined when none. */
  maxAgeSeconds: number | undefined;
}

/** Whether `url` may be fetched: `https:`, or `http:` to localhost / a loopback address. */
export function checkJwksUrl(url: URL): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return;
  throw new KeyError(
    `trusted keys ${url.href}: a JWKS URL must be https: (http: only to a loopback host), since whoever can answer it decides whom this process believes`,
  );
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/**
 * Fetches and parses a JWKS URL within the bounds above.
 * @throws KeyError naming the URL and what is wrong.
 */
export async function fetchJwks(href: string): Promise<FetchedJwks> {
  let url = new URL(href);
  checkJwksUrl(url);
  const signal = AbortSignal.timeout(TIMEOUT_MS);
  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      res = await fetch(url, { redirect: 'manual', signal });
    } catch (err) {
      throw new KeyError(`trusted keys ${href}: ${(err as Error).message}`);
    }
    if (res.status >= 300 && res.status < 400 && res.headers.has('location')) {
      await res.body?.cancel();
      const next = new URL(res.headers.get('location') as string, url);
      if (next.origin !== url.origin)
        throw new KeyError(`trusted keys ${href}: redirect to another origin (${next.origin}) refused`);
      if (hop >= MAX_REDIRECTS)
        throw new KeyError(`trusted keys ${href}: more than ${MAX_REDIRECTS} redirects`);
      url = next;
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new KeyError(`trusted keys ${href}: HTTP ${res.status}`);
    }
    const text = await boundedText(res, href);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new KeyError(`trusted keys ${href}: not valid JSON`);
    }
    return {
      keys: trustedKeysFromJwks(doc, href),
      maxAgeSeconds: maxAgeOf(res.headers.get('cache-control')),
    };
  }
}

async function boundedText(res: Response, href: string): Promise<string> {
  const tooBig = () => new KeyError(`trusted keys ${href}: body larger than ${MAX_JWKS_BYTES} bytes refused`);
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > MAX_JWKS_BYTES) {
    await res.body?.cancel();
    throw tooBig();
  }
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_JWKS_BYTES) {
      await reader.cancel();
      throw tooBig();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The `max-age` of a `Cache-Control` value (0 for `no-store`/`no-cache`), or undefined. */
export function maxAgeOf(cacheControl: string | null): number | undefined {
  if (!cacheControl) return undefined;
  const directives = cacheControl
    .toLowerCase()
    .split(',')
    .map((d) => d.trim());
  if (directives.includes('no-store') || directives.includes('no-cache')) return 0;
  for (const d of directives) {
    const m = /^max-age=(\d+)$/.exec(d);
    if (m) return Number(m[1]);
  }
  return undefined;
}
