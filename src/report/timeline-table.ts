import type { StoredAuditEvent } from '../pipeline/event.js';
import { delegationChain } from './delegation-graph.js';
import { escapeHtml, jaegerTraceUrl } from './escape.js';
import { actorKind, KIND_LABEL, kindIcon } from './icons.js';

/** Options of {@link timelineTable}. */
export interface TimelineOptions {
  /** Base URL of a Jaeger UI for trace links. */
  jaegerUrl?: string;
  /** Per origin, the first seq a broken chain no longer vouches for. */
  breaks?: ReadonlyMap<string, number>;
}

const TIER_NAME = ['minimal', 'low', 'high', 'critical'] as const;

const COLUMNS = [
  'Time (UTC)',
  'Actor',
  'On behalf of',
  'Trigger',
  'Action',
  'Target',
  'Policy',
  'Approval',
  'Result',
  'Risk',
  'Trace',
] as const;

/**
 * The timeline: one table row per audit record, oldest first. Each row's kind of actor is shown by a
 * word and an icon and by the row's edge style, with colour only as a third cue.
 */
export function timelineTable(rows: readonly StoredAuditEvent[], options: TimelineOptions = {}): string {
  const humans = rows.filter((r) => r.actor_type === 'human').length;
  const caption =
    `<caption><strong>${rows.length} audit record${rows.length === 1 ? '' : 's'}</strong>, oldest first. ` +
    `${humans} by humans (marked <em>Human</em>, a person icon and a solid edge), ` +
    `${rows.length - humans} by agents or services (marked <em>Agent</em>, a robot icon and a dashed edge).</caption>`;
  const head = `<thead><tr>${COLUMNS.map((c) => `<th scope="col">${c}</th>`).join('')}</tr></thead>`;
  const body = rows.length
    ? rows.map((r) => row(r, options)).join('\n')
    : `<tr><td class="empty" colspan="${COLUMNS.length}">No audit records match this scope.</td></tr>`;
  return `<table class="timeline">${caption}${head}<tbody>\n${body}\n</tbody></table>`;
}

function row(r: StoredAuditEvent, options: TimelineOptions): string {
  const kind = actorKind(r.actor_type);
  const brokenAt = options.breaks?.get(r.origin);
  const unverified = brokenAt !== undefined && r.seq >= brokenAt;
  const classes = [`row-${kind}`, unverified ? 'unverified' : ''].filter(Boolean).join(' ');
  const cells = [
    when(r, unverified ? brokenAt : undefined),
    actor(r),
    onBehalfOf(r),
    trigger(r),
    action(r),
    `<td class="target">${r.target ? wrapAfter(r.target, /(?<=[@/])/) : '<span class="small">none</span>'}</td>`,
    policy(r),
    approval(r),
    result(r),
    risk(r),
    traceCell(r, options.jaegerUrl),
  ];
  return (
    `<tr class="${classes}" data-actor-type="${kind}" data-action="${escapeHtml(r.action)}" ` +
    `data-record-type="${escapeHtml(r.record_type)}" data-seq="${escapeHtml(r.seq)}" data-event-id="${escapeHtml(r.event_id)}">` +
    `${cells.join('')}</tr>`
  );
}

function when(r: StoredAuditEvent, brokenAt: number | undefined): string {
  const time = r.timestamp.slice(11, 23) || r.timestamp;
  const flag =
    brokenAt === undefined
      ? ''
      : `<span class="unverified-tag">⚠ Not verified: at or after the break at seq ${brokenAt}</span>`;
  return (
    `<th scope="row" class="when"><time datetime="${escapeHtml(r.timestamp)}">${escapeHtml(time)}</time>` +
    `<span class="small">${escapeHtml(r.timestamp.slice(0, 10))} · seq ${escapeHtml(r.seq)}</span>${flag}</th>`
  );
}

function actor(r: StoredAuditEvent): string {
  const kind = actorKind(r.actor_type);
  const name =
    r.actor_name && r.actor_name !== r.actor_id ? r.actor_name : (r.actor_id ?? r.actor_name ?? '');
  const id = r.actor_name && r.actor_id && r.actor_name !== r.actor_id ? r.actor_id : '';
  return (
    `<td class="actor"><span class="kind kind-${kind}">${kindIcon(kind, 14)}${KIND_LABEL[kind]}</span>` +
    `<span class="who">${name ? keep(name) : 'unknown'}</span>` +
    (id ? `<span class="small mono">${keep(id)}</span>` : '') +
    provenance(r) +
    '</td>'
  );
}

function onBehalfOf(r: StoredAuditEvent): string {
  if (!r.on_behalf_of) return '<td><span class="small">no one recorded</span></td>';
  const self = r.on_behalf_of === r.actor_id;
  const chain = delegationChain(r);
  return (
    `<td class="breakable"><span class="who">${keep(r.on_behalf_of)}</span>` +
    (self ? '<span class="small">acting for themself</span>' : '') +
    (chain.length > 1
      ? `<span class="small">chain: ${chain.map((c) => escapeHtml(c)).join(' → ')}</span>`
      : '') +
    '</td>'
  );
}

function trigger(r: StoredAuditEvent): string {
  const label = r.trigger_id ? (r.trigger_type ? `${r.trigger_type}:${r.trigger_id}` : r.trigger_id) : '';
  return (
    `<td>${label ? `<span class="mono">${wrapAtColons(label)}</span>` : '<span class="small">none (direct)</span>'}` +
    (r.intent ? `<span class="small">intent: ${escapeHtml(r.intent)}</span>` : '') +
    '</td>'
  );
}

function action(r: StoredAuditEvent): string {
  const tag =
    r.record_type === 'started'
      ? '<span class="tag" title="Recorded when the action began (risk tier 2 or more)">started</span>'
      : r.record_type === 'gap'
        ? '<span class="tag">gap: events lost</span>'
        : '';
  return `<td><span class="mono">${wrapAtColons(r.action)}</span>${tag}</td>`;
}

function policy(r: StoredAuditEvent): string {
  const d = r.policy_decision;
  if (!d || d === 'not_evaluated') return '<td><span class="status neutral">not evaluated</span></td>';
  const tone = d === 'deny' ? 'bad' : d === 'allow' ? 'good' : 'neutral';
  const word = d === 'deny' ? '✕ deny' : d === 'allow' ? '✓ allow' : d;
  return (
    `<td class="breakable"><span class="status ${tone}">${escapeHtml(word)}</span>` +
    (r.policy_rule ? `<span class="small">${escapeHtml(r.policy_rule)}</span>` : '') +
    '</td>'
  );
}

function approval(r: StoredAuditEvent): string {
  const s = r.approval_state;
  if (!s || s === 'not_required') return '<td><span class="status neutral">not required</span></td>';
  const tone = s === 'approved' ? 'good' : s === 'rejected' || s === 'denied' ? 'bad' : 'neutral';
  return (
    `<td class="breakable"><span class="status ${tone}">${escapeHtml(s)}</span>` +
    (r.approved_by ? `<span class="small">by ${escapeHtml(r.approved_by)}</span>` : '') +
    '</td>'
  );
}

function result(r: StoredAuditEvent): string {
  const v = r.result ?? '';
  const tone = v === 'ok' ? 'good' : v === 'denied' || v === 'error' || v === 'gap' ? 'bad' : 'neutral';
  const word = v === 'ok' ? '✓ ok' : v === 'denied' ? '✕ denied' : v === 'error' ? '✕ error' : v;
  return `<td class="result"><span class="status ${tone}">${escapeHtml(word) || 'none'}</span></td>`;
}

function risk(r: StoredAuditEvent): string {
  if (r.risk_tier === null) return '<td><span class="small">not set</span></td>';
  // A stored value, so escaped like any other: a hand-edited row can put markup in a number column.
  const tier = escapeHtml(r.risk_tier);
  const name = TIER_NAME[r.risk_tier] ?? '';
  const known = Number.isInteger(r.risk_tier) && name !== '';
  return `<td class="risk${known ? ` risk-${r.risk_tier}` : ''}">${tier} · ${escapeHtml(name)}</td>`;
}

/**
 * Where who, for whom and why came from: this process, a verified signature, or a caller's claim. In
 * the actor cell, since it qualifies who acted, and so the table still fits a printed page.
 */
function provenance(r: StoredAuditEvent): string {
  const p = r.provenance;
  if (p === 'verified') return '<span class="small status good">✓ verified signature</span>';
  if (p === 'local') return '<span class="small">set by this service (local)</span>';
  if (p === 'unverified') return '<span class="small status bad">claim: not verified</span>';
  return '<span class="small">provenance not recorded</span>';
}

function traceCell(r: StoredAuditEvent, jaegerUrl: string | undefined): string {
  if (!r.trace_id) return '<td><span class="small">none</span></td>';
  const short = `${r.trace_id.slice(0, 8)}…`;
  const href = jaegerTraceUrl(jaegerUrl, r.trace_id);
  if (!href)
    return `<td><span class="mono small" title="${escapeHtml(r.trace_id)}">${escapeHtml(short)}</span></td>`;
  return (
    `<td><a class="trace-link mono" href="${escapeHtml(href)}" rel="noopener noreferrer" ` +
    `title="Open trace ${escapeHtml(r.trace_id)} in Jaeger">${escapeHtml(short)}</a></td>`
  );
}

/**
 * Ids like `schedule:daily-digest` may wrap after a colon but not at a hyphen, where a reader would
 * take the break for part of the id.
 */
function wrapAtColons(text: string): string {
  return text
    .split(/(?<=:)/)
    .map((part) => keep(part))
    .join('<wbr>');
}

/**
 * Keeps a short name on one line (`inbox-agent` broken at its hyphen reads as two words); a long one
 * may wrap anywhere rather than push the table off the page.
 */
function keep(text: string): string {
  return text.length <= 28
    ? `<span class="nw">${escapeHtml(text)}</span>`
    : `<span class="any">${escapeHtml(text)}</span>`;
}

/** Offers a line break after each `split` match; the cell may still break anywhere if it must. */
function wrapAfter(text: string, split: RegExp): string {
  return text
    .split(split)
    .map((part) => escapeHtml(part))
    .join('<wbr>');
}
