/**
 * The slice of Node-RED's runtime API these nodes use. Node-RED ships no type declarations for
 * node authors in v4, so we describe only what we call and keep it loose where Node-RED is loose.
 */

export interface NodeMessage {
  _msgid?: string;
  topic?: string;
  payload?: unknown;
  [key: string]: unknown;
}

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

export type SendFn = (msg: NodeMessage | null | Array<NodeMessage | NodeMessage[] | null>) => void;
export type DoneFn = (err?: Error) => void;

export interface NodeContextStore {
  get(key: string): unknown;
  /** The callback form: the only one stores without a synchronous API (localfilesystem with cache: false, Redis-like) support. */
  get(key: string, cb: (err: Error | null | undefined, value: unknown) => void): void;
  set(key: string, value: unknown): void;
  set(key: string, value: unknown, cb: (err?: Error | null) => void): void;
}

export interface NodeContext extends NodeContextStore {
  flow: NodeContextStore;
  global: NodeContextStore;
}

/** A Node-RED node instance; `credentials` is only present when the type declares some. */
export interface Node {
  id: string;
  type: string;
  name?: string;
  z?: string;
  credentials?: Record<string, string | undefined>;
  on(event: 'input', handler: (msg: NodeMessage, send: SendFn, done: DoneFn) => void): void;
  on(event: 'close', handler: (removed: boolean, done: () => void) => void): void;
  send(msg: NodeMessage | null | Array<NodeMessage | NodeMessage[] | null>): void;
  status(status: NodeStatus | Record<string, never>): void;
  error(err: unknown, msg?: NodeMessage): void;
  warn(message: unknown): void;
  log(message: unknown): void;
  debug(message: unknown): void;
  context(): NodeContext;
}

export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  z?: string;
  [prop: string]: unknown;
}

/** Minimal Express request/response shapes for the admin endpoints. */
export interface AdminRequest {
  body?: unknown;
  query: Record<string, unknown>;
}
export interface AdminResponse {
  status(code: number): AdminResponse;
  json(body: unknown): void;
}
export type AdminHandler = (req: AdminRequest, res: AdminResponse) => void;
/** Express middleware, typed loosely because we only pass it straight back to Express. */
export type Middleware = (...args: unknown[]) => void;

export interface NodeAPI {
  nodes: {
    createNode(node: Node, def: NodeDef): void;
    // `never` lets each node declare its own `this` and property shape.
    registerType(type: string, ctor: (this: never, def: never) => void, opts?: { credentials?: Record<string, { type: 'text' | 'password' }>; settings?: Record<string, unknown> }): void;
    getNode(id: string): Node | null;
    getCredentials(id: string): Record<string, string | undefined> | undefined;
  };
  util: {
    evaluateNodeProperty(value: unknown, type: string, node: Node, msg: NodeMessage, cb: (err: Error | null, result: unknown) => void): void;
    cloneMessage<T extends NodeMessage>(msg: T): T;
    generateId(): string;
  };
  settings: { userDir?: string; [key: string]: unknown };
  httpAdmin: {
    get(path: string, ...handlers: Array<Middleware | AdminHandler>): void;
    post(path: string, ...handlers: Array<Middleware | AdminHandler>): void;
  };
  auth: { needsPermission(permission: string): Middleware };
  _(key: string, substitutions?: Record<string, unknown>): string;
  log: { warn(m: string): void; info(m: string): void; debug?(m: string): void };
}
