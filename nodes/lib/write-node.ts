/**
 * The node side shared by proficloud-write and proficloud-batch: config registration, the writer with its
 * status and error reporting, the input handler (build, limit, queue, report bad values) and close.
 * Each node only turns its settings and a msg into points.
 */
import { ValidationError } from '../../src/errors';
import { countBatchPoints } from '../../src/outbox/points';
import type { OverflowPolicy } from '../../src/outbox/store';
import type { PushBuildResult } from '../../src/push';
import type { WriteResult } from '../../src/types';
import { configNodeOf, type ProficloudConfigNode, type Service } from './connection';
import { enforceLimits } from './limits';
import { parseTags } from './parse';
import { asError, syntheticMsg } from './props';
import type { DoneFn, Node, NodeAPI, NodeMessage, SendFn } from './red';
import { buffering, busy, failed, ok, translate } from './status';
import { assertWritable, openWriter, tagsOrFallback, validationErrors, type Writer, type WriterOptions } from './writer';

/** How long close waits for the last batches before leaving them in the outbox. */
const CLOSE_TIMEOUT_MS = 4000;

export interface WriteNodeSpec {
  /** The node's type, which prefixes its status texts in the catalogue. */
  type: 'proficloud-write' | 'proficloud-batch';
  /** msg.topic of reports and of errors no incoming msg caused. */
  topic: string;
  /** Id of the proficloud-config node. */
  server: string | undefined;
  /** Send one message per finished write. */
  report: boolean;
  queue: Pick<WriterOptions, 'maxBatchPoints' | 'maxDelayMs' | 'durable' | 'maxBytes' | 'overflow'>;
  /** Bad values reported one by one per message; the rest are summarised in one more error. */
  maxReported: number;
  /** Show "queued N" while a message's points go into the queue (large batches take a moment). */
  showQueued?: boolean;
  /** The points of one message; throws ValidationError when the message as a whole is unusable. */
  build(msg: NodeMessage, service: Service): PushBuildResult;
}

/** The editor's overflow choice; anything else keeps the default, dropping the oldest points. */
export function overflowPolicy(raw: unknown): OverflowPolicy {
  return raw === 'drop-newest' ? 'drop-newest' : 'drop-oldest';
}

/** Tags of one message: msg.tags over the config's default tags, or the fallback tag when both are empty. */
export function messageTags(msg: NodeMessage, service: Service): Record<string, string> {
  return tagsOrFallback({ ...service.defaultTags, ...parseTags(msg.tags, 'msg.tags') });
}

export function setupWriteNode(RED: NodeAPI, node: Node, spec: WriteNodeSpec): void {
  const { type, topic } = spec;
  let config: ProficloudConfigNode | undefined;
  let writerPromise: Promise<Writer> | undefined;

  function onResult(result: WriteResult): void {
    config?.reportOk();
    if (result.errors.length) node.error(asError(new ValidationError('write', result.rejected, `server rejected: ${result.errors.join('; ')}`)), syntheticMsg(node, topic));
    node.status(ok(translate(RED, `${type}.status.written`, 'wrote __count__', { count: result.written })));
    if (spec.report) node.send({ topic, payload: result });
  }

  try {
    config = configNodeOf(RED, spec.server);
    config.register(node);
    const cfg = config;
    writerPromise = cfg.getService().then((service) =>
      openWriter(RED, node, service, {
        ...spec.queue,
        onResult,
        onStatus: (s) => {
          if (s.state === 'error') node.status(failed({ message: s.lastError ?? 'write failed' }));
          else if (s.buffered > 0) node.status(buffering(translate(RED, `${type}.status.buffered`, 'buffered __count__', { count: s.buffered }), s.lastError));
        },
        onFailure: (err) => {
          const e = asError(err);
          cfg.reportFailure(e);
          node.status(failed(e));
          node.error(e, syntheticMsg(node, topic));
        },
        onDrop: (points, reason) => node.warn(`outbox full: dropped ${points} points (${reason})`),
      }),
    );
    writerPromise.catch((err: unknown) => node.status(failed(err)));
  } catch (err) {
    node.status(failed(err));
  }

  async function handle(msg: NodeMessage): Promise<Error[]> {
    if (!config || !writerPromise) throw new ValidationError('server', spec.server, 'no proficloud-config node is selected or it is not deployed');
    const service = await config.getService();
    assertWritable(service);
    const built = enforceLimits(spec.build(msg, service));
    if (built.metrics.length) {
      const writer = await writerPromise;
      if (spec.showQueued) node.status(busy(translate(RED, `${type}.status.queued`, 'queued __count__', { count: countBatchPoints(built.metrics) })));
      await writer.enqueue(built.metrics);
    }
    return validationErrors(built.errors, spec.maxReported);
  }

  node.on('input', (msg: NodeMessage, _send: SendFn, done: DoneFn) => {
    handle(msg).then(
      (problems) => {
        for (const p of problems) node.error(p, msg);
        done();
      },
      (err: unknown) => {
        const e = asError(err);
        node.status(failed(e));
        done(e);
      },
    );
  });

  node.on('close', (_removed: boolean, done: () => void) => {
    config?.deregister(node);
    const closing = writerPromise ? writerPromise.then((w) => w.close(CLOSE_TIMEOUT_MS)) : Promise.resolve();
    closing.catch((err: unknown) => node.warn(asError(err).message)).finally(() => done());
  });
}
