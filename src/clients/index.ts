/**
 * Entry point for the service clients: KairosDB, the Proficloud TSD/EWIMA connectors, proficloud.io and
 * its tokens. The nodes require() this on first use (nodes/lib/connection.ts), so undici and the client
 * code load when a flow first talks to a server, not when Node-RED starts.
 */
export { KairosConnector, type KairosConnectorOptions } from '../kairos/connector';
export { createTsdConnector, createEwimaConnector, ProficloudMetrics, PROFICLOUD_URLS, type ProficloudEnvironment, type ProficloudConnectorOptions } from '../proficloud/metrics';
export { generateToken, readTokenFile } from '../proficloud/token';
export { ProficloudIOMetrics, PROFICLOUD_IO_URLS, type ProficloudIOOptions } from '../proficloud/proficloud-io';
