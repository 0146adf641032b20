/**
 * Starts bench/kairos-child.ts (local server + counting proxy) as a child process and talks to it.
 * The child is ended by its PID on close(), and exits by itself when this process's stdin pipe closes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';

export interface ProxyStats {
  requests: number;
  requestBytes: number;
  responseBytes: number;
  byPath: Record<string, number>;
  cpuMs: number;
  rss: number;
}

export interface KairosChild {
  /** The server itself. */
  url: string;
  /** The counting proxy in front of it. */
  proxyUrl: string;
  /** InfluxDB 1.x write sink for the peer nodes (204 at once, counts points). */
  influxUrl: string;
  pid: number;
  stats(): Promise<ProxyStats>;
  reset(): Promise<void>;
  /** Writes metrics x points one-second points (names prefix0..) inside the child. */
  seed(prefix: string, metrics: number, points: number): Promise<void>;
  /** Points and value sum stored for `names` in [start, end], counted in the child. */
  count(start: number, end: number, names: string[]): Promise<{ points: number; sum: number }>;
  /** The InfluxDB sink's counters. */
  influx(): Promise<{ requests: number; points: number; bytes: number }>;
  influxReset(): Promise<void>;
  close(): Promise<void>;
}

export async function startKairosChild(): Promise<KairosChild> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'kairos-child.ts')], {
    cwd: join(__dirname, '..'),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: Interface = createInterface({ input: child.stdout! });
  const waiting: Array<{ resolve: (line: string) => void; reject: (err: Error) => void }> = [];
  lines.on('line', (line) => waiting.shift()?.resolve(line));
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`kairos child exited (${code})`));
  });
  const next = (): Promise<string> =>
    new Promise((resolve, reject) => {
      if (child.exitCode !== null) reject(new Error(`kairos child exited (${child.exitCode})`));
      else waiting.push({ resolve, reject });
    });
  const ready = JSON.parse(await next()) as { url: string; proxyUrl: string; influxUrl: string };
  const ask = async (cmd: string): Promise<string> => {
    const answer = next();
    child.stdin!.write(`${cmd}\n`);
    return answer;
  };
  return {
    ...ready,
    pid: child.pid!,
    stats: async () => JSON.parse(await ask('stats')) as ProxyStats,
    reset: async () => {
      await ask('reset');
    },
    seed: async (prefix, metrics, points) => {
      const answer = JSON.parse(await ask(`seed ${prefix} ${metrics} ${points}`)) as { error?: string };
      if (answer.error) throw new Error(answer.error);
    },
    count: async (start, end, names) => {
      const answer = JSON.parse(await ask(`count ${start} ${end} ${names.join(' ')}`)) as { points: number; sum: number; error?: string };
      if (answer.error) throw new Error(answer.error);
      return answer;
    },
    influx: async () => JSON.parse(await ask('influx')) as { requests: number; points: number; bytes: number },
    influxReset: async () => {
      await ask('influx-reset');
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => process.kill(child.pid!, 'SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.stdin!.end('exit\n');
      }),
  };
}
