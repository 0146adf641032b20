/** ../shared (spec and recorded KairosDB cases) sits beside the repository, in CI too; SHARED_DIR overrides. */
import path from 'node:path';

export const SHARED_DIR = process.env.SHARED_DIR ?? path.resolve(__dirname, '../../../shared');
export const CASES_DIR = path.join(SHARED_DIR, 'conformance', 'cases');
