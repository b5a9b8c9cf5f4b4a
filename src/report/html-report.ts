import { createHash } from 'node:crypto';
import type { StoredAuditEvent } from '../pipeline/event.js';
import { delegationForest, delegationGraphSvg } from './delegation-graph.js';
import { escapeHtml } from './escape.js';
import type { ReportInput, ReportScope } from './model.js';
import { REPORT_CSS } from './styles.js';
import { timelineTable } from './timeline-table.js';
import { breakPoints, verificationBanner } from './verification-banner.js';

/**
 * No script, no fetch, no frame, and no style but the page's own (by hash, so a `<style>` that ever
 * escaped escaping could not paint a fake banner over the real one): the page is inert, and it cannot
 * call out when opened from a ticket.
 */
const CSP =
  `default-src 'none'; style-src 'sha256-${createHash('sha256').update(REPORT_CSS).digest('base64')}'; ` +
  "img-src data:; base-uri 'none'; form-action 'none'";

/**
 * Renders a report as one self-contained HTML page (inline CSS and SVG, no external resources):
 * the store's verification status, a summary, the delegation graph and the timeline of every record
 * in scope. Every value from the store is escaped: the store is evidence, and evidence can be hostile.
 */
export function renderReport(input: ReportInput): string {
  const { rows, scope } = input;
  const title = reportTitle(scope, rows);
  const forest = delegationForest(rows);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="onbehalf report">
<title>${escapeHtml(title)} · onbehalf</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header>
<p class="eyebrow">onbehalf audit report</p>
<h1>${escapeHtml(title)}</h1>
<dl class="meta">
${metaItem('Scope', scopeText(scope))}
${metaItem('Period', period(rows))}
${metaItem('Store', input.store)}
${metaItem('Generated', input.generatedAt)}
</dl>
</header>
<main>
${verificationBanner(input.verification, input.anchors)}
${summary(rows)}
<section class="graph" aria-labelledby="graph-h">
<h2 id="graph-h">Delegation: who acted on whose authority</h2>
<figure>
${forest.length ? delegationGraphSvg(forest) : '<p>No delegation recorded in this scope.</p>'}
<figcaption>From the <code>delegation_chain</code> of the records in this report: the principal on the left, each delegate to the right; counts are completed actions taken by that identity itself.</figcaption>
</figure>
</section>
<section class="timeline-section" aria-labelledby="timeline-h">
<h2 id="timeline-h">Timeline</h2>
<div class="table-scroll">
${timelineTable(rows, { jaegerUrl: input.jaegerUrl, breaks: breakPoints(input.verification) })}
</div>
</section>
</main>
<footer>Made by <code>onbehalf report</code>. Times are UTC. This file needs no network access; trace links open only if the Jaeger server named in them is reachable.</footer>
</body>
</html>
`;
}

/** `Incident report: email:msg-8821` for a trigger; `Audit report: on behalf of tom` otherwise. */
export function reportTitle(scope: ReportScope, rows: readonly StoredAuditEvent[]): string {
  if (scope.trigger) {
    const typed = rows.find((r) => r.trigger_type && r.trigger_id);
    const label =
      scope.trigger.includes(':') || !typed?.trigger_type
        ? scope.trigger
        : `${typed.trigger_type}:${scope.trigger}`;
    return `Incident report: trigger ${label}`;
  }
  return `Audit report: ${scopeText(scope)}`;
}

/** The scope in words, e.g. `on behalf of tom, since 2026-01-01`. */
export function scopeText(scope: ReportScope): string {
  const parts = [
    scope.trigger && `trigger ${scope.trigger}`,
    scope.actor && `actor ${scope.actor}`,
    scope.onBehalfOf && `on behalf of ${scope.onBehalfOf}`,
    scope.since && `since ${scope.since}`,
    scope.until && `until ${scope.until}`,
  ].filter((p): p is string => !!p);
  return parts.length ? parts.join(', ') : 'all actions in the store';
}

function metaItem(term: string, value: string): string {
  return `<div><dt>${escapeHtml(term)}</dt><dd>${escapeHtml(value)}</dd></div>`;
}

function period(rows: readonly StoredAuditEvent[]): string {
  if (rows.length === 0) return 'no records';
  const first = rows[0]!.timestamp;
  const last = rows[rows.length - 1]!.timestamp;
  return first === last ? first : `${first} – ${last}`;
}

function summary(rows: readonly StoredAuditEvent[]): string {
  const actions = rows.filter((r) => r.record_type === 'action');
  const count = (pred: (r: StoredAuditEvent) => boolean) => actions.filter(pred).length;
  const items: [number, string][] = [
    [actions.length, 'completed or refused actions'],
    [count((r) => r.actor_type === 'agent'), 'by agents'],
    [count((r) => r.actor_type === 'human'), 'by humans'],
    [count((r) => r.result === 'denied'), 'denied by policy'],
    [count((r) => (r.risk_tier ?? 0) >= 2), 'high or critical risk'],
    [count((r) => r.result === 'error'), 'failed'],
  ];
  const gaps = rows.filter((r) => r.record_type === 'gap').length;
  if (gaps) items.push([gaps, 'gap records (events lost)']);
  return `<ul class="summary" aria-label="Summary">${items
    .map(([n, label]) => `<li><strong>${n}</strong>${escapeHtml(label)}</li>`)
    .join('')}</ul>`;
}
