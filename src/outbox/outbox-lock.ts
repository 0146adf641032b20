/**
 * One-process-per-directory lock: a file holding our pid and boot id, created exclusively.
 * A lock left by a dead process (pid gone, or written before the last reboot, when pids restart
 * and may belong to someone else) is taken over.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { OutboxError } from './outbox-errors';

const LOCK_NAME = 'outbox.lock';
/** Directories locked by this process, so a second Outbox in the same process is refused too. */
const heldHere = new Set<string>();

export interface DirLock {
  release(): Promise<void>;
}

export async function acquireDirLock(dir: string, path: (name: string) => string): Promise<DirLock> {
  const file = resolve(path(LOCK_NAME));
  if (heldHere.has(file)) throw locked(dir, process.pid);
  // Claimed before the first await, so two concurrent opens in this process cannot both proceed.
  heldHere.add(file);
  try {
    await takeLock(dir, file, path);
  } catch (err) {
    heldHere.delete(file);
    throw err;
  }
  return {
    release: async () => {
      heldHere.delete(file);
      await fs.rm(file, { force: true });
    },
  };
}

async function takeLock(dir: string, file: string, path: (name: string) => string): Promise<void> {
  const me = JSON.stringify({ pid: process.pid, boot: await bootId() });
  const unique = `${process.pid}.${randomBytes(4).toString('hex')}`;
  for (let attempt = 0; attempt < 5; attempt++) {
    // Written aside and linked into place, so the lock never exists half-written (link fails on EEXIST).
    const tmp = path(`${LOCK_NAME}.${unique}.tmp`);
    await fs.writeFile(tmp, me);
    try {
      await fs.link(tmp, file);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      await fs.rm(tmp, { force: true });
    }
    const owner = await readOwner(file);
    if (owner && (await ownerAlive(owner))) throw locked(dir, owner.pid);
    // Stale. Move it aside rather than deleting it, then check that what we moved is still that
    // stale lock: another process may have taken over in between, and its lock must survive.
    const aside = path(`${LOCK_NAME}.${unique}.stale`);
    try {
      await fs.rename(file, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    const moved = await readOwner(aside);
    if (moved && (moved.pid !== owner?.pid || moved.boot !== owner?.boot)) {
      await fs.link(aside, file).catch(() => undefined); // put the live lock back
    }
    await fs.rm(aside, { force: true });
  }
  throw new OutboxError('EOUTBOXLOCKED', `outbox directory ${dir}: could not take over the stale lock file ${LOCK_NAME}`);
}

function locked(dir: string, pid: number): OutboxError {
  return new OutboxError('EOUTBOXLOCKED', `outbox directory ${dir} is in use by process ${pid} (lock file ${LOCK_NAME}); only one process may open it`);
}

interface Owner {
  pid: number;
  boot?: string;
}

async function readOwner(file: string): Promise<Owner | null> {
  try {
    const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<Owner>;
    return typeof parsed.pid === 'number' ? { pid: parsed.pid, boot: parsed.boot } : null;
  } catch {
    // Unreadable (damaged, or not ours): nobody can prove ownership, so it is stale.
    return null;
  }
}

async function ownerAlive(owner: Owner): Promise<boolean> {
  const boot = await bootId();
  if (owner.boot && boot && owner.boot !== boot) return false;
  if (owner.pid === process.pid) return false; // our own pid but not in heldHere: a leftover of ours
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let cachedBoot: string | undefined | null = null;
async function bootId(): Promise<string | undefined> {
  if (cachedBoot === null) {
    try {
      cachedBoot = (await fs.readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
    } catch {
      cachedBoot = undefined; // not Linux: pid check only
    }
  }
  return cachedBoot;
}
