/**
 * Where a stream node keeps its position: an fsync'd state file under
 * <userDir>/proficloud-stream/<node id>.json (beside the write nodes' proficloud-outbox), written after
 * each poll's messages were sent; without a user directory, the node's context through the
 * asynchronous (callback) API, so context stores without a synchronous API work too. A position an
 * older version kept in context is taken over once and removed there.
 */
import { join } from 'node:path';
import type { HeldRows, PositionDelta, StateFile, StreamPosition } from '../../src/stream';
import type { Node, NodeAPI } from './red';

/** What a stream node persists: the poller's position, the rows still held, and what they describe. */
export interface SavedStream {
  version: 1;
  /** Metrics, tags and devices the position belongs to; another key means another stream. */
  key: string;
  position: StreamPosition;
  held?: HeldRows;
}

/** One poll's change, appended to the journal between snapshots. */
export interface JournalRecord {
  d: PositionDelta;
  held?: HeldRows;
}

export interface PositionStore {
  /** The saved stream (if any), the journal after it and, after a crash during a send, up to which timestamp points may repeat. */
  load(): Promise<{ saved?: SavedStream; journal: JournalRecord[]; legacy?: StreamPosition; inFlightEnd?: number }>;
  beginSend(end: number): Promise<void>;
  /**
   * After a poll: the change as a journal record, or (first save, journal grown past the snapshot, or a
   * reset) the whole state. `delta` is taken first, so a whole state made after it includes it.
   */
  save(delta: () => JournalRecord, whole: () => SavedStream): Promise<void>;
  clear(): Promise<void>;
  /** Where it lives, for messages. */
  readonly where: string;
}

/** A journal longer than this and than twice the snapshot is folded into a new snapshot. */
const JOURNAL_MIN_BYTES = 256 * 1024;

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
  // Loaded on first use (it brings the outbox's fsync helpers): Node-RED's start-up does not pay for it.
  const { StateFile: StateFileClass } = require('../../src/stream/state-file') as typeof import('../../src/stream/state-file');
  const file: StateFile<SavedStream, JournalRecord> = new StateFileClass<SavedStream, JournalRecord>(join(userDir, 'proficloud-stream'), node.id);
  let snapshotted = false;
  return {
    where: file.path,
    async load() {
      const { state, journal, inFlightEnd } = await file.load();
      if (state) return { saved: state, journal, ...(inFlightEnd !== undefined ? { inFlightEnd } : {}) };
      // Taken over from context once (older versions), then removed there.
      const legacy = (await contextGet(node, LEGACY_KEY)) as StreamPosition | undefined;
      if (legacy) await contextSet(node, LEGACY_KEY, undefined);
      return legacy ? { journal: [], legacy } : { journal: [] };
    },
    beginSend: (end) => file.beginSend(end),
    save(delta, whole) {
      const record = delta();
      const full = !snapshotted || record.d.needsSnapshot === true || file.journalBytes > Math.max(JOURNAL_MIN_BYTES, 2 * file.snapshotBytes);
      if (!full) return file.append(record);
      snapshotted = true;
      return file.commit(whole());
    },
    clear: () => {
      snapshotted = false;
      return file.clear();
    },
  };
}

function contextStore(node: Node): PositionStore {
  const KEY = 'stream';
  let last: string | undefined;
  return {
    where: 'node context',
    async load() {
      const saved = (await contextGet(node, KEY)) as SavedStream | undefined;
      if (saved) return { saved, journal: [] };
      const legacy = (await contextGet(node, LEGACY_KEY)) as StreamPosition | undefined;
      return legacy ? { journal: [], legacy } : { journal: [] };
    },
    beginSend: async () => undefined,
    // Context has no journal: the whole state each time (a context store is the fallback without a user directory).
    async save(delta, whole) {
      delta();
      const s = whole();
      const text = JSON.stringify(s);
      if (text === last) return;
      await contextSet(node, KEY, s);
      last = text;
    },
    clear: () => contextSet(node, KEY, undefined),
  };
}
