// The checked list of the package root's runtime exports (src/index.ts), shared by the API and package tests.

/** The public runtime API. Changing it is an API change: update README's connector library sections too. */
export const PUBLIC_RUNTIME_EXPORTS = [
  // the seed's names
  'KairosConnector',
  'generateToken',
  'generateMetricsCsv',
  'datetimeToTimestampMs',
  'timestampMsToDatetime',
  'getTimeOffsetToUtc',
  'rowsFromQueryResponse',
  'ProficloudMetrics',
  'ProficloudIOMetrics',
  'MetricsStream',
  'MetricsStreamIO',
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
].sort();
