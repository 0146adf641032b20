/**
 * The luxon loader, in a module of its own: no exported signature of the public API mentions luxon's
 * types, so the package's declarations compile for consumers without @types/luxon (test/package.test.ts).
 */
import type * as Luxon from 'luxon';

let luxonModule: typeof Luxon | undefined;
/**
 * luxon, loaded on first use (about 15 ms at start-up otherwise): epoch-millisecond timestamps, the
 * common case in flows, never need it.
 */
export function luxon(): typeof Luxon {
  if (!luxonModule) luxonModule = require('luxon') as typeof Luxon;
  return luxonModule;
}
