/**
 * Where a stream node keeps its position: an fsync'd state file under
 * <userDir>/proficloud-stream/<node id>.json (beside the write nodes' proficloud-outbox), written after
 * each poll's messages were sent; without a user directory, the node's context through the
 * asynchronous (callback) API, so context stores without a synchronous API work too. A position an
 * older version kept in context is taken over once and removed there.
 */
import { join } from 'node:path';
import { StateFile, type HeldRows, type StreamPosition } from '../../src/stream';
import type { Node, NodeAPI } from './red';

/** What a stream node persists: the poller's position, the rows still held, and what they describe. */
export interface SavedStream {
  version: 1;
  /** Metrics, tags and devices the position belongs to; another key means another stream. */
  key: string;
  position: StreamPosition;
  held?: HeldRows;
}

export interface PositionStore {
  /** The saved stream (if any) and, after a crash during a send, up to which timestamp points may repeat. */
  load(): Promise<{ saved?: SavedStream; legacy?: StreamPosition; inFlightEnd?: number }>;
  beginSend(end: number): Promise<void>;
  commit(s: SavedStream): Promise<void>;
  clear(): Promise<void>;
  /** Where it lives, for messages. */
  readonly where: string;
}

/** The context key older versions kept the position under. */
export const LEGACY_KEY = 'position';

export function contextGet(node: Node, key: string): Promise<unknown> {
  return new Promise((resolve, reject) => node.context().get(key, (err, value) => (err ? reject(err) : resolve(value))));
}

export function contextSet(node: Node, key: string, value: unknown): Promise<void> {
  return new Promise((resolve, reject) => node.context().set(key, value, (err) => (err ? reject(err) : resolve())));
}

export function positionStore(RED: NodeAPI, node: Node): PositionStore {
  const userDir = RED.settings.userDir;
  if (!userDir) return contextStore(node);
  const file = new StateFile<SavedStream>(join(userDir, 'proficloud-stream'), node.id);
  return {
    where: file.path,
    async load() {
      const { state, inFlightEnd } = await file.load();
      if (state) return { saved: state, ...(inFlightEnd !== undefined ? { inFlightEnd } : {}) };
      // Taken over from context once (older versions), then removed there.
      const legacy = (await contextGet(node, LEGACY_KEY)) as StreamPosition | undefined;
      if (legacy) await contextSet(node, LEGACY_KEY, undefined);
      return legacy ? { legacy } : {};
    },
    beginSend: (end) => file.beginSend(end),
    commit: (s) => file.commit(s),
    clear: () => file.clear(),
  };
}

function contextStore(node: Node): PositionStore {
  const KEY = 'stream';
  let last: string | undefined;
  return {
    where: 'node context',
    async load() {
      const saved = (await contextGet(node, KEY)) as SavedStream | undefined;
      if (saved) return { saved };
      const legacy = (await contextGet(node, LEGACY_KEY)) as StreamPosition | undefined;
      return legacy ? { legacy } : {};
    },
    beginSend: async () => undefined,
    async commit(s) {
      const text = JSON.stringify(s);
      if (text === last) return;
      await contextSet(node, KEY, s);
      last = text;
    },
    clear: () => contextSet(node, KEY, undefined),
  };
}
