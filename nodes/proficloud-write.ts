/**
 * proficloud-write: msg.payload {metric: value} (or one value named by msg.topic) into coalesced,
 * store-and-forward writes. Bad values are reported one by one; the good ones of the message still go out.
 */
import { lazy } from './lib/lazy';
import type { Node, NodeAPI, NodeDef } from './lib/red';

const runtime = lazy(() => require('./write/write-node') as typeof import('./write/write-node'));

export = function register(RED: NodeAPI): void {
  function ProficloudWrite(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    runtime().setupWriteNode(RED, this, def);
  }

  RED.nodes.registerType('proficloud-write', ProficloudWrite);
};
