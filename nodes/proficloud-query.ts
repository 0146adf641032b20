/**
 * proficloud-query: one query per message (or a paged series of them), shaped as rows, per-series
 * messages, Dashboard 2 chart points or the raw response.
 */
import { lazy } from './lib/lazy';
import type { Node, NodeAPI, NodeDef } from './lib/red';

const runtime = lazy(() => require('./query/query-node') as typeof import('./query/query-node'));

export = function register(RED: NodeAPI): void {
  function ProficloudQuery(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    runtime().setupQueryNode(RED, this, def);
  }

  RED.nodes.registerType('proficloud-query', ProficloudQuery);
};
