import type { OnbehalfCounts } from './components.js';

/** `ONBEHALF_EXIT_SUMMARY=off` (or `0`, `false`) turns the exit summary off. */
export const EXIT_SUMMARY_ENV = 'ONBEHALF_EXIT_SUMMARY';

/** Whether the environment asks for no exit summary. */
export function exitSummaryOff(env: Record<string, string | undefined>): boolean {
  const value = env[EXIT_SUMMARY_ENV]?.trim().toLowerCase();
  return value === 'off' || value === '0' || value === 'false' || value === 'no';
}

/**
 * One line for stderr at exit: how many spans onbehalf saw, how many audit events it stored and lost.
 * A run that saw no span at all says so, since that is how a broken setup looks from outside.
 */
export function exitSummary(counts: OnbehalfCounts): string {
  const where = counts.store ? ` in ${counts.store}` : '';
  const lost = counts.lost
    ? `, ${counts.lost} LOST (see the gap records: onbehalf query STORE --record-type gap)`
    : ', 0 lost';
  const none = counts.spans === 0 ? ' (no span reached onbehalf: is the app instrumented?)' : '';
  return `onbehalf: ${counts.spans} spans seen, ${counts.stored} audit events stored${where}${lost}${none}\n`;
}
