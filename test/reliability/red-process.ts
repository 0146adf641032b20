/** Parent side of red-child.ts: start a Node-RED child process, feed it, watch it, kill it by its PID. */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ChildLog {
  level: number;
  msg: string;
  id?: string;
  nodeType?: string;
}

export class RedProcess {
  readonly logs: ChildLog[] = [];
  /** Everything the child wrote to stdout/stderr (Node-RED may print outside its logger). */
  output = '';
  counts: Record<string, number> = {};
  port = 0;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  private constructor(child: ChildProcess) {
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.on('message', (m: { type: string; port?: number; counts?: Record<string, number> } & ChildLog) => {
      if (m.type === 'log') this.logs.push({ level: m.level, msg: m.msg, id: m.id, nodeType: m.nodeType });
      if (m.type === 'complete' && m.counts) this.counts = m.counts;
    });
  }

  /** Writes flows (and plain-text credentials) into userDir and starts Node-RED on it. */
  static async start(userDir: string, flows: unknown[], credentials: Record<string, unknown> = {}, settings: Record<string, unknown> = {}): Promise<RedProcess> {
    writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flows));
    writeFileSync(join(userDir, 'flows_cred.json'), JSON.stringify(credentials));
    const child = fork(join(__dirname, 'red-child.ts'), [], {
      execArgv: ['--require', 'tsx/cjs'],
      env: { ...process.env, RED_USERDIR: userDir, RED_SETTINGS: JSON.stringify(settings) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const p = new RedProcess(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Node-RED child not ready in 20 s:\n${p.output}\n${p.logs.map((l) => l.msg).join('\n')}`)), 20000);
      child.on('message', (m: { type: string; port?: number }) => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          p.port = m.port ?? 0;
          resolve();
        }
      });
      void p.exited.then(({ code }) => {
        clearTimeout(timer);
        reject(new Error(`Node-RED child exited (${code}) before it was ready:\n${p.output}\n${p.logs.map((l) => l.msg).join('\n')}`));
      });
    });
    return p;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get adminUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  send(node: string, msgs: unknown[]): void {
    this.child.send({ type: 'send', node, msgs });
  }

  /** A crash: SIGKILL to this child's PID, no chance to flush anything. */
  async kill(): Promise<void> {
    process.kill(this.pid, 'SIGKILL');
    await this.exited;
  }

  /** A clean restart: RED.stop() closes the nodes, then the process exits. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.send({ type: 'stop' });
    const timer = setTimeout(() => process.kill(this.pid, 'SIGKILL'), 10000);
    await this.exited;
    clearTimeout(timer);
  }

  /** Log lines as text (levels: 20 error, 30 warn, 40 info, 50 debug). */
  text(): string {
    return this.logs.map((l) => l.msg).join('\n') + '\n' + this.output;
  }
}
