/** The stream parts: poller (each point once), poll loop, row assembly, and the seed's stream classes. */
export * from './poller';
export * from './loop';
export * from './metrics-stream';
export * from './rows';
export * from './emitted';
export * from './chart';
export * from './state-file';
export * from './count';
