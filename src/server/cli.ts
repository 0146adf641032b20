#!/usr/bin/env node
/**
 * kairosdb-local: runs the KairosDB-compatible local server.
 *   kairosdb-local [--port 8080] [--host 127.0.0.1] [--data DIR] [--token T] [--ingest-delay MIN..MAX] [--ingest-seed N]
 * The token may also come from KAIROSDB_LOCAL_TOKEN (keeps it out of the process list).
 * Prints one line with the URL when ready; SIGINT/SIGTERM flush the data directory and exit.
 */
import { startServer } from './index';
import { parseIngestDelay } from './ingest-delay';

interface CliOptions {
  port: number;
  host: string;
  dataDir?: string;
  token?: string;
  /** --ingest-delay: pushed points become visible after MIN..MAX ms, per series and part of a push. */
  ingestDelay?: { minMs: number; maxMs: number; seed?: number };
  /** --help: print usage to stdout and exit 0 instead of starting. */
  help?: boolean;
}

const USAGE = 'usage: kairosdb-local [--port N] [--host ADDR] [--data DIR] [--token T] [--ingest-delay MIN..MAX] [--ingest-seed N]';

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv): CliOptions {
  const out: CliOptions = { port: 8080, host: '127.0.0.1', token: env.KAIROSDB_LOCAL_TOKEN || undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const takeValue = (): string => {
      if (eq > 0) return arg.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag}: a value is required\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case '--port': {
        const raw = takeValue();
        const port = Number(raw);
        if (!/^\d+$/.test(raw) || port > 65535) throw new Error(`--port: must be an integer 0..65535 (got ${JSON.stringify(raw)})`);
        out.port = port;
        break;
      }
      case '--host':
        out.host = takeValue();
        break;
      case '--data':
        out.dataDir = takeValue();
        break;
      case '--token':
        out.token = takeValue();
        break;
      case '--ingest-delay': {
        const raw = takeValue();
        try {
          out.ingestDelay = { ...parseIngestDelay(raw), ...(out.ingestDelay?.seed !== undefined ? { seed: out.ingestDelay.seed } : {}) };
        } catch {
          throw new Error(`--ingest-delay: must be MIN..MAX or N milliseconds (got ${JSON.stringify(raw)})`);
        }
        break;
      }
      case '--ingest-seed': {
        const raw = takeValue();
        if (!/^\d+$/.test(raw)) throw new Error(`--ingest-seed: must be a non-negative integer (got ${JSON.stringify(raw)})`);
        out.ingestDelay = { minMs: out.ingestDelay?.minMs ?? 0, maxMs: out.ingestDelay?.maxMs ?? 0, seed: Number(raw) };
        break;
      }
      case '--help':
      case '-h':
        out.help = true;
        break;
      default:
        throw new Error(`unknown option ${JSON.stringify(flag)}\n${USAGE}`);
    }
  }
  return out;
}

async function main(): Promise<void> {
  let opts: CliOptions;
  try {
    opts = parseArgs(process.argv.slice(2), process.env);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  if (opts.help) {
    process.stdout.write(
      `${USAGE}\n  defaults: --port 8080 --host 127.0.0.1, memory only without --data; token also from KAIROSDB_LOCAL_TOKEN\n` +
        '  --ingest-delay MIN..MAX: pushed points become queryable MIN..MAX ms later, per series and part of a push, as on a real KairosDB (--ingest-seed N repeats the delays)\n',
    );
    process.exit(0);
  }
  const server = await startServer({
    port: opts.port,
    host: opts.host,
    dataDir: opts.dataDir,
    token: opts.token,
    ...(opts.ingestDelay ? { ingestDelay: opts.ingestDelay } : {}),
    logger: { warn: (m) => process.stderr.write(m + '\n') },
  });
  process.stdout.write(`kairosdb-local listening on ${server.url}\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    server.close().then(
      () => process.exit(0),
      (e: Error) => {
        process.stderr.write(`kairosdb-local: close failed: ${e.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((e: Error) => {
    process.stderr.write(`kairosdb-local: ${e.message}\n`);
    process.exit(1);
  });
}
