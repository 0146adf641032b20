/**
 * Shared pieces of the reliability suites: the five built nodes (as the node tests load them), per-suite helper
 * settings with fast retries, and server-side counting of what actually got stored.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configNode, helper, readBack, startHelper, stopHelper, userDir as harnessUserDir } from '../nodes/harness';

/** The built node modules (dist/nodes), loaded like the node tests load them. */
export { builtNodes } from '../nodes/harness';

/**
 * Retry pacing of the reliability suites (settings.proficloudRetry): fast retries; an outage ends after
 * 3 s without failures (long enough that a stalled test machine does not split a flapping link's outage).
 */
export const TEST_RETRY = { initialMs: 50, maxMs: 400, quietMs: 3000 };

/** A private userDir (outboxes live below it) and retries fast enough for tests; undo with restoreSettings(). */
export function useSettings(extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'proficloud-rel-'));
  helper.settings({ userDir: dir, proficloudRetry: TEST_RETRY, ...extra });
  return dir;
}

export function restoreSettings(dir: string): void {
  helper.settings({ userDir: harnessUserDir });
  rmSync(dir, { recursive: true, force: true });
}

export interface RuntimeHooks {
  /** Starts the suite's servers once the runtime is up. */
  setup?: () => Promise<void>;
  /** Closes them again before the runtime stops. */
  teardown?: () => Promise<void>;
  /** Unloads the flow after every test (suites that load one flow per test). */
  unloadAfterEach?: boolean;
}

/**
 * Mocha hooks of a reliability suite: private settings (useSettings), the helper's runtime, and the suite's
 * own servers started inside them and closed before them. `userDir` is valid once the before hook has run.
 */
export function useRuntime(hooks: RuntimeHooks = {}): { readonly userDir: string } {
  let dir: string | undefined;
  before(async function () {
    dir = useSettings();
    await startHelper();
    await hooks.setup?.();
  });
  after(async function () {
    await hooks.teardown?.();
    await stopHelper();
    if (dir) restoreSettings(dir);
  });
  if (hooks.unloadAfterEach) {
    afterEach(async function () {
      await helper.unload();
    });
  }
  return {
    get userDir(): string {
      if (!dir) throw new Error('the suite has not started yet (use userDir inside hooks and tests)');
      return dir;
    },
  };
}

/** The harness's config node with a 1 s timeout, so faults that hang show up quickly. */
export function cfg(url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return configNode(url, { timeout: 1, ...extra });
}

/**
 * Asserts-by-return: how many of the expected timestamps are stored, how many are missing, and how many
 * stored values are duplicates KairosDB did not collapse (same timestamp twice in one result).
 */
export async function tally(url: string, metric: string, expected: number[]): Promise<{ stored: number; missing: number[]; duplicates: number }> {
  const values = await readBack(url, metric);
  const seen = new Map<number, number>();
  for (const [t] of values) seen.set(t, (seen.get(t) ?? 0) + 1);
  let duplicates = 0;
  for (const n of seen.values()) duplicates += n - 1;
  return { stored: values.length, missing: expected.filter((t) => !seen.has(t)), duplicates };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Every text a node showed or said, for assertions on what it reported. */
export function statusTexts(node: { status: { getCalls(): Array<{ args: unknown[]; thisValue: unknown }> } }): string[] {
  return node.status
    .getCalls()
    .filter((c) => c.thisValue === node)
    .map((c) => String((c.args[0] as { text?: unknown })?.text ?? ''));
}
