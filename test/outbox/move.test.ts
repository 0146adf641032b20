import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { moveOutbox, Outbox } from '../../src/outbox';
import type { KairosPushMetric } from '../../src/types';

const batch = (name: string, from: number, n: number): KairosPushMetric[] => [
  { name, tags: { h: 'a' }, type: 'long', datapoints: Array.from({ length: n }, (_, i) => [from + i, i] as [number, number]) },
];

async function drain(box: Outbox): Promise<KairosPushMetric[]> {
  const out: KairosPushMetric[] = [];
  for (;;) {
    const b = await box.peek(1_000_000);
    if (!b) return out;
    out.push(...b.metrics);
    await box.ack(b.id);
  }
}

describe('moveOutbox (recovering the outbox of a removed node)', () => {
  let root: string;
  beforeEach(async () => {
    root = await fs.mkdtemp(join(tmpdir(), 'move-outbox-'));
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('appends every waiting batch, in order, behind what the target already holds, then removes the source', async () => {
    const from = join(root, 'old');
    const to = join(root, 'new');
    const src = await Outbox.open({ dir: from });
    await src.append(batch('a', 1, 3));
    await src.append(batch('b', 10, 2));
    await src.append(batch('c', 20, 1));
    const done = await src.peek(3);
    await src.ack(done!.id); // the first batch was delivered already: not moved
    await src.close();
    const dst = await Outbox.open({ dir: to });
    await dst.append(batch('t', 100, 1));
    await dst.close();

    assert.deepEqual(await moveOutbox(from, to), { points: 3, batches: 2 });
    assert.ok(!existsSync(from));
    const box = await Outbox.open({ dir: to });
    try {
      assert.deepEqual((await drain(box)).map((m) => m.name), ['t', 'b', 'c']);
    } finally {
      await box.close();
    }
  });

  it('refuses while the target is open (Node-RED still running) and changes nothing', async () => {
    const from = join(root, 'old');
    const to = join(root, 'new');
    const src = await Outbox.open({ dir: from });
    await src.append(batch('a', 1, 2));
    await src.close();
    const running = await Outbox.open({ dir: to });
    try {
      await assert.rejects(moveOutbox(from, to), { code: 'EOUTBOXLOCKED' });
    } finally {
      await running.close();
    }
    assert.ok(existsSync(from));
    const again = await Outbox.open({ dir: from });
    assert.equal(again.stats().points, 2);
    await again.close();
  });

  it('names the directory when the source does not exist or is the target', async () => {
    await assert.rejects(moveOutbox(join(root, 'nope'), join(root, 'x')), { code: 'EVALIDATION', message: /^from: .*no outbox/ });
    await assert.rejects(moveOutbox(root, root), { code: 'EVALIDATION', message: /^to: / });
  });
});
