// The checked list of the package root's runtime exports (src/index.ts), shared by the API and package tests.

/** The seed's functions and classes, kept under their names. */
export const SEED_NAMES = [
  'KairosConnector',
  'generateToken',
  'generateMetricsCsv',
  'datetimeToTimestampMs',
  'timestampMsToDatetime',
  'getTimeOffsetToUtc',
  'rowsFromQueryResponse',
  'ProficloudIOMetrics',
  'MetricsStream',
  'MetricsStreamIO',
];

/** The public runtime API. Changing it is an API change: update README's connector library sections too. */
export const PUBLIC_RUNTIME_EXPORTS = [
  ...SEED_NAMES,
  // the seed's ProficloudMetrics (an object with the tsd and ewima factories)
  'ProficloudMetrics',
  // documented helpers
  'AGGREGATORS',
  'DEFAULT_FORMAT',
  'tableFromQueryResponse',
  'seriesFromQueryResponse',
  'seriesToChart',
  'readTokenFile',
  'writeMetricsCsv',
  'createTsdConnector',
  'createEwimaConnector',
  'IncrementalPoller',
  'PollLoop',
  // errors
  'KairosError',
  'ValidationError',
  'HttpStatusError',
  'TimeoutError',
  'NetworkError',
  'AuthenticationError',
  'ReadOnlyError',
  'ParseError',
  'ResponseTooLargeError',
  // recovering the outbox of a removed write/batch node (README)
  'moveOutbox',
].sort();
