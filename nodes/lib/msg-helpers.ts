/** Property evaluation and error plumbing used by every node's input handler. */
import { KairosError } from '../../src/errors';
import type { Node, NodeAPI, NodeMessage } from './red';

/** Promisified evaluateNodeProperty: the callback form is the one that also works for async JSONata. */
export function evaluate(RED: NodeAPI, node: Node, value: unknown, type: string | undefined, msg: NodeMessage): Promise<unknown> {
  // An absent property (older flow files, hand-written flows) must stay absent, not become "undefined".
  if (value === undefined || value === null) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    RED.util.evaluateNodeProperty(value, type || 'str', node, msg, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** Ensures an Error whose `code` is an own property (Catch nodes show own properties). */
export function asError(err: unknown): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  if (e instanceof KairosError && !Object.prototype.hasOwnProperty.call(e, 'code')) {
    Object.defineProperty(e, 'code', { value: e.code, enumerable: true });
  }
  return e;
}

/** A msg for errors that no incoming message caused (polls, background writes), so Catch nodes still fire. */
export function syntheticMsg(node: Node, topic: string): NodeMessage {
  return { _msgid: `${node.id}-${Date.now().toString(36)}`, topic, payload: null };
}
