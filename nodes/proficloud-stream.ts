/**
 * proficloud-stream: polls a buffer window on an interval and emits each point once (or the whole
 * window), as rows, per-series messages or ui-chart points.
 *
 * - Rows: an incomplete row waits for its missing cells (RowAssembler), never dropped.
 * - Late points (within the late-data horizon) come once, in messages with msg.late = true; a chart
 *   gets its window replaced instead, so no line steps backwards (ChartFeed).
 * - The position is kept in an fsync'd state file written after each poll's messages were sent; after
 *   a crash the points of the poll in flight may come again, in messages with msg.repeated = true.
 * - Catch-up after an outage comes in messages of at most about 100,000 points.
 * - Poll failures: one error per distinct cause per outage (Catch sees when polling starts failing),
 *   the reason in the status, and one error with msg.recovered = true when polling works again.
 */
import { lazy } from './lib/lazy';
import type { Node, NodeAPI, NodeDef } from './lib/red';

const runtime = lazy(() => require('./stream/stream-node') as typeof import('./stream/stream-node'));

export = function register(RED: NodeAPI): void {
  function ProficloudStream(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    runtime().setupStreamNode(RED, this, def);
  }

  RED.nodes.registerType('proficloud-stream', ProficloudStream);
};
