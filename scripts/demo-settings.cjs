// Node-RED settings for `npm start` (scripts/demo.mjs). The demo passes --port and --userDir on the command
// line; the values here are the fallbacks when this file is used on its own
// (node node_modules/node-red/red.js --settings scripts/demo-settings.cjs).
const path = require('node:path');

const root = path.join(__dirname, '..');
const demoDir = process.env.DEMO_DIR ? path.resolve(process.env.DEMO_DIR) : path.join(root, '.demo');

module.exports = {
  uiHost: '127.0.0.1',
  uiPort: Number(process.env.DEMO_PORT) || 1880,
  userDir: path.join(demoDir, 'node-red'),
  flowFile: 'flows.json',
  flowFilePretty: true,
  // Fixed so the demo's flows_cred.json stays readable across runs; it protects nothing of value.
  credentialSecret: 'kairos-edge-demo-only',
  // The repository root is a Node-RED module (package.json "node-red" lists dist/nodes/*.js).
  nodesDir: [root],
  editorTheme: {
    tours: false,
    projects: { enabled: false },
  },
  telemetry: { enabled: false, updateNotification: false },
  diagnostics: { enabled: false, ui: false },
  // The demo runs offline: no palette installs, no module auto-install.
  externalModules: { autoInstall: false, palette: { allowInstall: false } },
  // File-backed context so a stream node's saved position survives a demo restart.
  contextStorage: {
    default: { module: 'localfilesystem' },
    memory: { module: 'memory' },
  },
  logging: { console: { level: 'info', metrics: false, audit: false } },
};
