/** The proficloud-config node's runtime and its editor endpoints, loaded on first use (see ../proficloud-config.ts). */
import { KairosError, redact } from '../../src/errors';
import { nodeEnvLookup, processEnvLookup, resolveEnvRefs } from '../lib/env';
import { createService, secretsOf, type ConfigCredentials, type ConfigProps, type ProficloudConfigNode, type Service } from '../lib/connection';
import type { AdminRequest, AdminResponse, Node, NodeAPI, NodeDef, NodeStatus } from '../lib/red';
import { CREDENTIALS, STORED } from './credentials';
import { STATUS } from '../lib/status';

function connectionLost(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === 'ENETWORK' || code === 'ETIMEOUT' || code === 'EAUTH';
}

function safeMessage(err: unknown, secrets: string[]): { error: string; code?: string } {
  const message = err instanceof Error ? err.message : String(err);
  const code = err instanceof KairosError ? err.code : (err as { code?: unknown })?.code;
  return { error: redact(message, secrets), ...(typeof code === 'string' ? { code } : {}) };
}

/** Contacts the service the cheapest way it allows (legacy TSD locks /version, so it gets a tiny query). */
async function probe(service: Service): Promise<{ version?: string; health?: { ok: boolean; status: string[] } }> {
  if (service.io) {
    // proficloud.io has no version endpoint; a successful login proves URL and credentials.
    await service.io.getAccessToken();
    return {};
  }
  const connector = service.connector!;
  if (service.kind === 'tsd') {
    await connector.query({ metrics: ['proficloud.connection.test'], startRelative: { value: 1, unit: 'minutes' } });
    return {};
  }
  const version = await connector.version();
  const health = service.kind === 'kairosdb' ? await connector.health().catch(() => undefined) : undefined;
  return { version, ...(health ? { health } : {}) };
}

/** Sets up one deployed config node: its service, its users' status and its close. */
export function setupConfigNode(RED: NodeAPI, node: ProficloudConfigNode, def: NodeDef): void {
  const props = def as NodeDef & ConfigProps;
  // Node-RED has substituted ${ENV_VAR} where the variable is set; a reference left over is unset.
  let creds = (node.credentials ?? {}) as ConfigCredentials;
  let credsError: unknown;
  try {
    creds = resolveEnvRefs(creds, nodeEnvLookup(RED, node));
  } catch (err) {
    credsError = err;
  }
  const users = new Map<string, Node>();
  let lastStatus: NodeStatus = {};
  let closing = false;
  const logger = { warn: (m: string) => node.warn(redact(m, secretsOf(creds))) };

  const servicePromise = credsError ? Promise.reject(credsError) : createService(RED, props, creds, logger);
  // Construction errors surface through getService(); keep them from becoming unhandled here.
  servicePromise.catch(() => undefined);

  function push(status: NodeStatus): void {
    lastStatus = status;
    for (const user of users.values()) user.status(status);
  }

  node.getService = () => servicePromise;
  node.register = (user) => {
    users.set(user.id, user);
    if (users.size === 1) {
      push(STATUS.connecting);
      servicePromise
        .then((service) => probe(service))
        .then(() => !closing && push(STATUS.connected))
        .catch((err: unknown) => {
          if (closing) return;
          node.warn(safeMessage(err, secretsOf(creds)).error);
          push({ fill: 'red', shape: 'ring', text: (err as { code?: string }).code ?? 'node-red:common.status.error' });
        });
    } else if (lastStatus.text) {
      user.status(lastStatus);
    }
  };
  node.deregister = (user) => {
    users.delete(user.id);
  };
  // Only transitions are pushed: users show their own per-request status while the link is fine.
  node.reportOk = () => {
    if (lastStatus.fill === 'red') push(STATUS.connected);
  };
  node.reportFailure = (err) => {
    if (connectionLost(err) && lastStatus !== STATUS.disconnected) push(STATUS.disconnected);
  };

  node.on('close', (_removed: boolean, done: () => void) => {
    closing = true;
    users.clear();
    servicePromise
      .then((service) => service.close())
      .catch(() => undefined)
      .finally(() => done());
  });
}

/** POST /proficloud-ts/test-connection: the editor's form (not deployed yet) is tried against its service. */
export function testConnection(RED: NodeAPI, req: AdminRequest, res: AdminResponse): void {
  const body = (req.body ?? {}) as ConfigProps & { id?: string; credentials?: ConfigCredentials };
  const given = body.credentials ?? {};
  const stored = (body.id ? RED.nodes.getCredentials(body.id) : undefined) ?? {};
  let creds: ConfigCredentials = {};
  for (const key of Object.keys(CREDENTIALS) as Array<keyof ConfigCredentials>) {
    const v = given[key];
    creds[key] = v === STORED || (v === undefined && CREDENTIALS[key].type === 'password') ? stored[key] : v;
  }
  const warnings: string[] = [];
  let secrets: string[] = [];
  let service: Service | undefined;
  // The form is not deployed yet, so ${ENV_VAR} in it is resolved here as Node-RED would at start.
  Promise.resolve()
    .then(() => {
      creds = resolveEnvRefs(creds, processEnvLookup);
      secrets = secretsOf(creds);
      const { id: _id, credentials: _c, ...props } = body;
      return createService(RED, resolveEnvRefs(props, processEnvLookup), creds, { warn: (m) => warnings.push(redact(m, secrets)) });
    })
    .then(async (s) => {
      service = s;
      const result = await probe(s);
      res.json({ ok: true, service: s.kind, ...result, warnings });
    })
    .catch((err: unknown) => res.json({ ok: false, ...safeMessage(err, secrets), warnings }))
    .finally(() => service?.close().catch(() => undefined));

}

/** GET /proficloud-ts/metricnames: metric names of a deployed config node, for the editor's suggestions. */
export function metricNames(RED: NodeAPI, req: AdminRequest, res: AdminResponse): void {
  const id = typeof req.query.config === 'string' ? req.query.config : '';
  const prefix = typeof req.query.prefix === 'string' ? req.query.prefix : '';
  const config = id ? (RED.nodes.getNode(id) as ProficloudConfigNode | null) : null;
  if (!config || typeof config.getService !== 'function') {
    res.status(404).json({ error: `config node ${JSON.stringify(id)} is not deployed` });
    return;
  }
  config
    .getService()
    .then(async (service) => {
      if (!service.connector) return [];
      return await service.connector.metricNames(prefix || undefined);
    })
    .then((names) => res.json(names.slice(0, 500)))
    .catch((err: unknown) => res.status(502).json(safeMessage(err, secretsOf((config.credentials ?? {}) as ConfigCredentials))));

}
