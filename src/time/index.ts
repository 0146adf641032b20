/**
 * Entry point of src/time (what nodes/ and other layers import): timestamps, the time-unit table, time
 * specs and durations as the nodes accept them, timer limits. Light on purpose: luxon loads on first use.
 * SNTP (./sntp) is not listed here: only the public entry (src/index.ts) offers it.
 */
export {
  datetimeToTimestampMs,
  timestampMsToDatetime,
  formatTimestamp,
  subtractRelative,
  validateRelativeTime,
  relativeTimeToMs,
  isValidZone,
  DEFAULT_FORMAT,
  MIN_TIMESTAMP_MS,
  MAX_TIMESTAMP_MS,
  type ParseTimeOptions,
  type FormatTimeOptions,
} from './timestamps';
export { TIME_UNITS, UNIT_MS, UNIT_SPELLINGS, timeUnitOf, relativeText, durationTextMs } from './unit-table';
export { normalizeTimeUnit, relativeToMs } from './time-units';
export { tryRelative, parseDurationMs, parseTimeSpec, specToMs, type TimeSpec } from './time-spec';
export { checkTimerMs, MAX_TIMER_MS } from './timer-limits';
