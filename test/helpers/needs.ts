/**
 * A test that needs something from the machine (Chromium). Under CI (CI=true, as .ci/run sets it) a missing tool
 * fails the run, because CI installs it; on a developer's machine the suite skips those tests and says why, and the
 * closing count line shows them as skipped.
 */
export function needTool(ctx: Mocha.Context, present: boolean, what: string, install: string): void {
  if (present) return;
  const ci = process.env.CI;
  if (ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0') {
    throw new Error(`${what} is missing and CI is set, so this is a failure, not a skip (${install})`);
  }
  console.log(`      skipped: ${what} is missing (${install}); with CI=true this fails`);
  ctx.skip();
}
