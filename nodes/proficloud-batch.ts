/**
 * proficloud-batch: many points per message — row objects, a native KairosDB push array, or CSV text —
 * split into requests of a fixed size through the same store-and-forward queue as proficloud-write.
 */
import { lazy } from './lib/lazy';
import type { Node, NodeAPI, NodeDef } from './lib/red';

const runtime = lazy(() => require('./batch/batch-node') as typeof import('./batch/batch-node'));

export = function register(RED: NodeAPI): void {
  function ProficloudBatch(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    runtime().setupBatchNode(RED, this, def);
  }

  RED.nodes.registerType('proficloud-batch', ProficloudBatch);
};
