/**
 * Everything a report shows from a store is untrusted: a hostile email can choose a mail target, a
 * subject or a trigger id. These helpers are the only way such text reaches the HTML.
 */

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes text for HTML element content and quoted attribute values. Control characters other than
 * tab and newline are replaced too, so a stored value cannot smuggle in invisible text.
 */
export function escapeHtml(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : String(value);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing control characters is the point
  return text.replace(/[&<>"']|[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => ENTITIES[c] ?? '\ufffd');
}

/**
 * The trace link of a row: only a 32-hex-digit trace id (a stored value is not trusted to be one)
 * under an http(s) base URL the operator gave; otherwise no link.
 */
export function jaegerTraceUrl(base: string | undefined, traceId: string | null): string | undefined {
  if (!base || !traceId || !/^[0-9a-f]{32}$/i.test(traceId)) return undefined;
  if (!isHttpUrl(base)) return undefined;
  return `${base.replace(/\/+$/, '')}/trace/${traceId.toLowerCase()}`;
}

/** True for an absolute http: or https: URL. */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
