/**
 * One-process-per-directory lock: a file holding our pid and boot id, created exclusively.
 * A lock left by a dead process (pid gone, or written before the last reboot, when pids restart
 * and may belong to someone else) is taken over.
 */
import { promises as fs } from 'node:fs';
import { OutboxError } from './errors';

const LOCK_NAME = 'outbox.lock';
/** Directories locked by this process, so a second Outbox in the same process is refused too. */
const heldHere = new Set<string>();

export interface DirLock {
  release(): Promise<void>;
}

export async function acquireDirLock(dir: string, path: (name: string) => string): Promise<DirLock> {
  const file = path(LOCK_NAME);
  if (heldHere.has(file)) throw locked(dir, process.pid);
  const me = JSON.stringify({ pid: process.pid, boot: await bootId() });
  for (let attempt = 0; attempt < 3; attempt++) {
    // Written aside and linked into place, so the lock never exists half-written (link fails on EEXIST).
    const tmp = path(`${LOCK_NAME}.${process.pid}.tmp`);
    await fs.writeFile(tmp, me);
    try {
      await fs.link(tmp, file);
      heldHere.add(file);
      return {
        release: async () => {
          heldHere.delete(file);
          await fs.rm(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      await fs.rm(tmp, { force: true });
    }
    const owner = await readOwner(file);
    if (owner && (await ownerAlive(owner))) throw locked(dir, owner.pid);
    // Stale: remove it and race for a fresh exclusive create; the loser sees EEXIST and a live owner.
    await fs.rm(file, { force: true });
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
