/**
 * Public entry of the connector library (package `exports["."]`): usable from a Node-RED function node
 * (via functionExternalModules) or any Node script. Nothing here imports Node-RED.
 */
export * from './types';
export * from './errors';
export * from './time';
export * from './sntp';
export * from './table';
export * from './query';
export * from './push';
export * from './connector';
export * from './paging';
export * from './stream';
export * from './outbox';
export { HttpClient, DEFAULT_TIMEOUT_MS, DEFAULT_GZIP_THRESHOLD } from './http/client';
export type { HttpClientOptions } from './http/client';
export * from './proficloud/metrics';
export * from './proficloud/token';
export * from './proficloud/csv';
export * from './proficloud/io';
