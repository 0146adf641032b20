/** Status badges shared by the five nodes; texts stay short because the editor truncates them. */
import type { NodeStatus } from './red';

export const STATUS = {
  connecting: { fill: 'yellow', shape: 'ring', text: 'node-red:common.status.connecting' },
  connected: { fill: 'green', shape: 'dot', text: 'node-red:common.status.connected' },
  disconnected: { fill: 'red', shape: 'ring', text: 'node-red:common.status.disconnected' },
} satisfies Record<string, NodeStatus>;

export function busy(text: string): NodeStatus {
  return { fill: 'blue', shape: 'dot', text };
}

export function ok(text: string): NodeStatus {
  return { fill: 'green', shape: 'dot', text };
}

export function warn(text: string): NodeStatus {
  return { fill: 'yellow', shape: 'ring', text };
}

/** Yellow ring while points wait for a retry; the reason follows the count so the canvas says why. */
export function buffering(text: string, reason?: string): NodeStatus {
  const full = reason ? `${text}: ${reason}` : text;
  return warn(full.length > 64 ? full.slice(0, 61) + '...' : full);
}

/** Red ring with the error code (or a shortened message) so the cause is visible on the canvas. */
export function failed(err: unknown): NodeStatus {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const text = code ? `${code}: ${message}` : message;
  return { fill: 'red', shape: 'ring', text: text.length > 60 ? text.slice(0, 57) + '...' : text };
}

/** HH:MM:SS local time for "last poll" style badges. */
export function clock(ms: number = Date.now()): string {
  return new Date(ms).toTimeString().slice(0, 8);
}

/** Status text from the node's catalogue; falls back to English when no catalogue is loaded (unit tests). */
export function translate(RED: { _(key: string, subs?: Record<string, unknown>): string }, key: string, fallback: string, subs: Record<string, unknown> = {}): string {
  const out = RED._(key, subs);
  const text = !out || out === key ? fallback : out;
  return text.replace(/__(\w+)__/g, (_m, name: string) => String(subs[name] ?? ''));
}
