/**
 * Recovery for the outbox of a removed write/batch node: its points move into another outbox (the one
 * of a node on the same connection), which delivers them once it runs. Both directories are locked
 * while moving, so this refuses with EOUTBOXLOCKED while Node-RED still has either open.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ValidationError } from '../errors';
import { Outbox } from './outbox';

export interface MoveOutboxResult {
  /** Points moved. */
  points: number;
  /** Stored batches (messages, usually) they came in. */
  batches: number;
}

export interface MoveOutboxOptions {
  /** Points per record written to the target. Default 1000. */
  chunkPoints?: number;
  /** Bound of the target outbox while moving (beyond it the move stops with EOUTBOXFULL, keeping the rest in `from`). Default 256 MiB, as Outbox. */
  maxBytes?: number;
}

/**
 * Appends every waiting batch of the outbox in `from` to the one in `to` (created if missing), oldest
 * first, behind what `to` holds, then deletes `from`. A crash part-way leaves a batch in both at
 * worst; delivering it twice is harmless (KairosDB keeps one value per series and timestamp).
 */
export async function moveOutbox(from: string, to: string, opts: MoveOutboxOptions = {}): Promise<MoveOutboxResult> {
  if (typeof from !== 'string' || from === '' || !existsSync(resolve(from))) throw new ValidationError('from', from, 'no outbox directory there');
  if (typeof to !== 'string' || to === '' || resolve(to) === resolve(from)) throw new ValidationError('to', to, 'must be another directory than from');
  const chunk = opts.chunkPoints ?? 1000;
  const src = await Outbox.open({ dir: from });
  let dst: Outbox | undefined;
  const moved: MoveOutboxResult = { points: 0, batches: 0 };
  try {
    dst = await Outbox.open({ dir: to, maxBytes: opts.maxBytes, overflow: 'drop-newest' });
    for (;;) {
      const batch = await src.peek(chunk);
      if (!batch) break;
      await dst.append(batch.metrics);
      await src.ack(batch.id);
      moved.points += batch.points;
      moved.batches += batch.records;
    }
  } finally {
    await dst?.close();
    await src.close();
  }
  await rm(from, { recursive: true, force: true });
  return moved;
}
