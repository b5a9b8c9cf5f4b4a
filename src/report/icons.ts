/**
 * Small inline SVG icons for the kind of actor, so "human" and "agent" differ by shape and a text
 * label, never by colour alone. Inline because the report must open with no network access.
 */

/** The kinds of actor a report distinguishes; `unknown` when the store does not say. */
export type ActorKind = 'human' | 'agent' | 'service' | 'unknown';

/** Display names of {@link ActorKind}. */
export const KIND_LABEL: Readonly<Record<ActorKind, string>> = {
  human: 'Human',
  agent: 'Agent',
  service: 'Service',
  unknown: 'Unknown',
};

// Paths are drawn on a 16×16 grid in currentColor, so the icon takes the text colour it sits in.
const PATHS: Readonly<Record<ActorKind, string>> = {
  human: '<circle cx="8" cy="4.6" r="3"/><path d="M2 15c0-3.6 2.7-6 6-6s6 2.4 6 6z"/>',
  agent:
    '<rect x="7.2" y="0.6" width="1.6" height="3" rx="0.8"/><rect x="2" y="3.4" width="12" height="10" rx="2.4"/>' +
    '<circle cx="5.6" cy="7.6" r="1.4" fill="#fff"/><circle cx="10.4" cy="7.6" r="1.4" fill="#fff"/>' +
    '<rect x="5" y="10.4" width="6" height="1.3" rx="0.6" fill="#fff"/>',
  service:
    '<rect x="1.5" y="2" width="13" height="5" rx="1.2"/><rect x="1.5" y="9" width="13" height="5" rx="1.2"/>' +
    '<circle cx="4.2" cy="4.5" r="1" fill="#fff"/><circle cx="4.2" cy="11.5" r="1" fill="#fff"/>',
  unknown:
    '<circle cx="8" cy="8" r="7"/><path d="M6 6.2a2 2 0 1 1 2.8 1.8c-.6.3-.8.7-.8 1.3v.6" stroke="#fff" ' +
    'stroke-width="1.6" fill="none" stroke-linecap="round"/><circle cx="8" cy="12.2" r="1" fill="#fff"/>',
};

/** The icon of `kind` as a standalone inline `<svg>`, hidden from screen readers (a label says it). */
export function kindIcon(kind: ActorKind, size = 16): string {
  return (
    `<svg class="icon" width="${size}" height="${size}" viewBox="0 0 16 16" fill="currentColor" ` +
    `aria-hidden="true" focusable="false">${PATHS[kind]}</svg>`
  );
}

/** The icon of `kind` as a group to place inside a larger SVG at (x, y). */
export function kindIconGroup(kind: ActorKind, x: number, y: number, size = 16): string {
  const s = size / 16;
  return `<g transform="translate(${x} ${y}) scale(${s})" aria-hidden="true">${PATHS[kind]}</g>`;
}

/** `agent`, `human`, `service`; anything else (a null or a future value) is `unknown`. */
export function actorKind(value: string | null | undefined): ActorKind {
  return value === 'human' || value === 'agent' || value === 'service' ? value : 'unknown';
}
