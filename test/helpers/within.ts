/**
 * `p`, or a rejection naming `what` after `ms`: for awaits in tests that have no deadline of their own (closing a
 * server, restarting one), so a hang fails with the step's name instead of mocha's anonymous test timeout.
 */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
