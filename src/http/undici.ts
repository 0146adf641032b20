/**
 * undici, loaded on first use: requiring it costs about 100 ms and several MB (it brings fetch,
 * WebSocket, cookies and mocks along), which Node-RED would otherwise pay at start-up for every
 * installed node package, before any flow uses a connection.
 */
import type * as Undici from 'undici';

let loaded: typeof Undici | undefined;

export function undici(): typeof Undici {
  if (!loaded) loaded = require('undici') as typeof Undici;
  return loaded;
}
