/** Entry point of src/util: small helpers every layer shares (validation, own keys, outage episodes). */
export { Episodes, formatRecovery, DEFAULT_EPISODE_QUIET_MS, type EpisodeSummary, type EpisodeOptions } from './outage-episodes';
export { setOwn } from './own-key';
export { isPlainObject, isObjectNotDateOrBuffer, positiveInt, nonNegativeInt, positiveIntOrDefault, positiveIntOr, nonNegativeOr } from './validate';
export { drain, runSliced, chunks, SLICE_UNITS, type Steps, type SliceOptions } from './slices';
