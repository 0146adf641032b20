/**
 * proficloud-config: one connection (KairosDB, Proficloud TSD/EWIMA or proficloud.io) shared by every
 * node that points at it. Like the core mqtt-broker node it keeps a list of its user nodes and pushes
 * connection status to them, and it serves the editor's "Test connection" and metric-name endpoints.
 */
import { CREDENTIALS } from './config/credentials';
import { lazy } from './lib/lazy';
import type { AdminRequest, AdminResponse, NodeAPI, NodeDef } from './lib/red';
import type { ProficloudConfigNode } from './lib/connection';

const runtime = lazy(() => require('./config/config-node') as typeof import('./config/config-node'));

export = function register(RED: NodeAPI): void {
  function ProficloudConfig(this: ProficloudConfigNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    runtime().setupConfigNode(RED, this, def);
  }

  RED.nodes.registerType('proficloud-config', ProficloudConfig, { credentials: { ...CREDENTIALS } });

  RED.httpAdmin.post('/proficloud-ts/test-connection', RED.auth.needsPermission('proficloud-config.write'), (req: AdminRequest, res: AdminResponse) =>
    runtime().testConnection(RED, req, res),
  );
  RED.httpAdmin.get('/proficloud-ts/metricnames', RED.auth.needsPermission('proficloud-config.read'), (req: AdminRequest, res: AdminResponse) =>
    runtime().metricNames(RED, req, res),
  );
};
