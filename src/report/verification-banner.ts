import { formatFault } from '../errors/verification-fault.js';
import type { VerifyStoreResult } from '../verify/verify-store.js';
import { escapeHtml } from './escape.js';

const CHECK =
  '<svg class="icon" width="22" height="22" viewBox="0 0 16 16" aria-hidden="true" focusable="false">' +
  '<circle cx="8" cy="8" r="7.5" fill="currentColor"/><path d="M4.5 8.3l2.3 2.3 4.7-4.9" fill="none" ' +
  'stroke="#fff" stroke-width="1.9" stroke-linecap="round" stroke-linejoin="round"/></svg>';
const CROSS =
  '<svg class="icon" width="22" height="22" viewBox="0 0 16 16" aria-hidden="true" focusable="false">' +
  '<path d="M8 .6L15.6 14.6H.4z" fill="currentColor"/><path d="M8 5.6v4.4" stroke="#fff" stroke-width="1.8" ' +
  'stroke-linecap="round"/><circle cx="8" cy="12.4" r="1" fill="#fff"/></svg>';

/**
 * The verification status of the store, first thing on the page: a reviewer must know whether the
 * rows below can be trusted before reading them. When a chain breaks it names the log (origin), the
 * first bad seq and why.
 */
export function verificationBanner(v: VerifyStoreResult, anchors: number): string {
  const gaps = v.gaps;
  const checkpoints = v.logs.reduce((n, l) => n + l.checkpointsVerified, 0);
  const logs = `${v.logs.length} writer log${v.logs.length === 1 ? '' : 's'}`;
  const scopeNote =
    'Verification covers the whole store, not only the rows in this report: every row is re-hashed ' +
    'and linked to the one before it, and every signed checkpoint is checked against the rows it covers.';
  const keyNote =
    v.keySource === 'store'
      ? '<p class="note">Checkpoint signatures were checked with keys recorded in the store itself: this ' +
        'proves the store is consistent, not who signed it (<code>onbehalf verify --trusted-keys</code> pins the keys).</p>'
      : '<p class="note">Checkpoint signatures were checked against pinned, trusted keys.</p>';
  const anchorNote =
    anchors > 0
      ? `<p class="note">Also checked against ${anchors} checkpoint${anchors === 1 ? '' : 's'} kept off-host, which catch a log truncated or rolled back since ${anchors === 1 ? 'it was' : 'they were'} exported.</p>`
      : '<p class="note">No checkpoints kept off-host were given: a log shortened together with its own ' +
        'checkpoints would still look intact (<code>onbehalf checkpoints</code> exports them; ' +
        '<code>--checkpoint</code> checks against them).</p>';
  const gapNote =
    gaps.records > 0
      ? `<p class="note gaps"><strong>Incomplete:</strong> the store holds ${gaps.records} gap ` +
        `record${gaps.records === 1 ? '' : 's'}: ${gaps.lost} event${gaps.lost === 1 ? '' : 's'} could not be ` +
        `recorded (${escapeHtml(gaps.reasons.join(', ') || 'reason not recorded')}). Actions at those moments ` +
        'are missing from this report.</p>'
      : '';
  const tails = v.logs
    .filter((l) => l.unanchored && l.anchoredSize > 0)
    .map(
      (l) =>
        `<p class="note">Log <code>${escapeHtml(l.origin)}</code>: vouched for up to seq ${escapeHtml(l.anchoredSize)}; ` +
        `the ${escapeHtml(l.unanchored?.count)} row(s) after it link, but no signed checkpoint covers them yet.</p>`,
    )
    .join('');
  const notes = `${keyNote}${anchorNote}${tails}${gapNote}`;
  if (v.verdict === 'unvouched') {
    return (
      '<section class="verify broken" id="verification" role="alert" aria-labelledby="verify-h">' +
      `<h2 id="verify-h">${CROSS}<span>Store not vouched for: nothing found wrong, but the keys and ` +
      'checkpoints given do not cover it</span></h2>' +
      `<p>${escapeHtml(v.origin ?? '?')}: ${escapeHtml(v.reason ?? '')}</p>${notes}</section>`
    );
  }
  if (v.ok) {
    return (
      '<section class="verify ok" id="verification" aria-labelledby="verify-h">' +
      `<h2 id="verify-h">${CHECK}<span>Store intact</span></h2>` +
      `<p>${v.count} event${v.count === 1 ? '' : 's'} in ${logs} verified; ${checkpoints} signed ` +
      `checkpoint${checkpoints === 1 ? '' : 's'} verified. ${scopeNote}</p>${notes}</section>`
    );
  }
  const database = v.database
    .filter((p) => p.origin === undefined || !v.logs.some((l) => l.origin === p.origin))
    .map(
      (p) =>
        `<li><strong>TAMPERED</strong> database: <span class="reason">${escapeHtml(formatFault(p))}</span></li>`,
    );
  const items = v.logs.map((l) =>
    l.ok
      ? `<li><strong>intact</strong> <code>${escapeHtml(l.origin)}</code>: ${escapeHtml(l.count)} events, ` +
        `${escapeHtml(l.checkpointsVerified)} signed checkpoint(s) verified</li>`
      : `<li><strong>TAMPERED</strong> <code>${escapeHtml(l.origin)}</code>: first bad seq ` +
        `<strong class="bad-seq">${escapeHtml(l.firstBadSeq ?? '?')}</strong>; reason: ` +
        `<span class="reason">${escapeHtml(l.reason ?? 'unknown')}</span>` +
        l.problems
          .slice(1)
          .map((p) => `<br>also: ${escapeHtml(formatFault(p))}`)
          .join('') +
        '</li>',
  );
  return (
    '<section class="verify broken" id="verification" role="alert" aria-labelledby="verify-h">' +
    (v.origin === undefined && v.database.some((p) => p.hidesRows)
      ? `<h2 id="verify-h">${CROSS}<span>Store TAMPERED: the database itself is not what verify checks</span></h2>` +
        '<p>Queries of this database could show rows verify never checked, or hide rows it did: no rows are shown.</p>'
      : `<h2 id="verify-h">${CROSS}<span>Store TAMPERED: the chain of ` +
        `<code>${escapeHtml(v.origin)}</code> breaks at seq ${escapeHtml(v.firstBadSeq ?? '?')}</span></h2>` +
        `<p>Rows from the first bad seq on cannot be trusted: they are marked below. ${scopeNote}</p>`) +
    `<ul>${[...database, ...items].join('')}</ul>${notes}</section>`
  );
}

/**
 * For each broken log, the first seq that can no longer be trusted, so the timeline can mark the
 * rows at or after it.
 */
export function breakPoints(v: VerifyStoreResult): Map<string, number> {
  const points = new Map<string, number>();
  for (const l of v.logs) if (l.verdict === 'tampered') points.set(l.origin, l.firstBadSeq ?? 1);
  return points;
}
