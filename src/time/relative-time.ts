/**
 * The times an auditor types: `7d`, `yesterday`, `last-tuesday`, `this-week`, besides ISO 8601.
 *
 * Calendar words are UTC calendar days, because every `timestamp` in the store is UTC: the same command
 * gives the same rows wherever it is run. A week starts on Monday (ISO 8601).
 */

const DAY_MS = 86_400_000;
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS };
/** A date, or a date and time with an optional zone: what `Date.parse` reads the same on every engine. */
const ISO = /^\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?$/i;

/** Whether `value` is an ISO 8601 date or time (no relative word): it then means the same everywhere. */
export function isIsoTime(value: string): boolean {
  return ISO.test(value.trim()) && !Number.isNaN(Date.parse(value.trim()));
}

/** The forms {@link resolveTime} accepts, for help texts and errors. */
export const TIME_FORMS =
  'ISO 8601 (2026-01-01, 2026-01-01T03:00Z), a duration back from now (30m, 12h, 7d, 2w),\ntoday, yesterday, this-week, or last-monday … last-sunday (UTC days)';

/** Midnight UTC at the start of the day holding `ms`. */
export function startOfUtcDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** Midnight UTC of the Monday starting the ISO week that holds `ms`. */
export function startOfUtcWeek(ms: number): number {
  const day = startOfUtcDay(ms);
  const weekday = new Date(day).getUTCDay(); // 0 Sunday … 6 Saturday
  return day - ((weekday + 6) % 7) * DAY_MS;
}

/**
 * Midnight UTC of the most recent `weekday` before today: on a Tuesday, `last-tuesday` is the Tuesday
 * a week ago, never today (today is `today`). So `last-tuesday` is always 1 to 7 days back.
 */
export function startOfLastWeekday(weekday: number, now: number): number {
  const today = startOfUtcDay(now);
  const back = (new Date(today).getUTCDay() - weekday + 7) % 7 || 7;
  return today - back * DAY_MS;
}

/**
 * A calendar day a word names, as `[start, end)` in ms: `today`, `yesterday`, `last-<weekday>`, or an
 * ISO date (`2026-01-01`). Undefined for anything else.
 */
export function dayRange(value: string, now: number): [number, number] | undefined {
  const word = value.trim().toLowerCase();
  let start: number | undefined;
  if (word === 'today') start = startOfUtcDay(now);
  else if (word === 'yesterday') start = startOfUtcDay(now) - DAY_MS;
  else if (word.startsWith('last-')) {
    const weekday = WEEKDAYS.indexOf(word.slice(5) as (typeof WEEKDAYS)[number]);
    if (weekday >= 0) start = startOfLastWeekday(weekday, now);
  } else if (/^\d{4}-\d\d-\d\d$/.test(word)) {
    const ms = Date.parse(`${word}T00:00:00Z`);
    if (!Number.isNaN(ms)) start = ms;
  }
  return start === undefined ? undefined : [start, start + DAY_MS];
}

/**
 * The instant `value` names, as ISO 8601 UTC, for `--since`/`--until`. A day word means that day's
 * midnight (so `--since yesterday --until today` is all of yesterday); `this-week` is Monday's.
 * Throws a `RangeError` naming `flag` and the accepted forms for anything else.
 */
export function resolveTime(value: string, flag: string, now: number = Date.now()): string {
  const word = value.trim().toLowerCase();
  const duration = /^(\d+)([mhdw])$/.exec(word);
  if (duration) return new Date(now - Number(duration[1]) * UNIT_MS[duration[2]!]!).toISOString();
  if (word === 'this-week') return new Date(startOfUtcWeek(now)).toISOString();
  const day = dayRange(word, now);
  if (day) return new Date(day[0]).toISOString();
  if (ISO.test(value.trim())) {
    const ms = Date.parse(value.trim());
    if (!Number.isNaN(ms)) return new Date(ms).toISOString();
  }
  throw new RangeError(
    `${flag}: cannot read ${JSON.stringify(value)} as a time; expected ${TIME_FORMS.replace('\n', ' ')}`,
  );
}

/** `--day DAY`: the `[since, until)` of one UTC calendar day, as ISO 8601. */
export function resolveDay(value: string, flag: string, now: number = Date.now()): [string, string] {
  const day = dayRange(value, now);
  if (!day)
    throw new RangeError(
      `${flag}: cannot read ${JSON.stringify(value)} as a day; expected today, yesterday, last-monday … last-sunday, or an ISO date (2026-01-01)`,
    );
  return [new Date(day[0]).toISOString(), new Date(day[1]).toISOString()];
}
