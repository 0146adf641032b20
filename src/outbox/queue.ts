/** Alias module: the node-side writer imports the queue from here; the implementation is write-queue.ts. */
export * from './write-queue';
