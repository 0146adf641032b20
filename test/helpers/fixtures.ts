/** Recorded data the tests read; everything lives in the repository so a plain clone runs the suite. */
import path from 'node:path';

export const FIXTURES_DIR = path.resolve(__dirname, '../fixtures');
/** Requests sent to a real KairosDB 1.3.0 (H2 datastore) and its answers, in recording order (see README there). */
export const CASES_DIR = path.join(FIXTURES_DIR, 'conformance', 'cases');

/** A self-signed certificate for 127.0.0.1, valid for 100 years (test/fixtures/tls/README.md). */
export const TLS_CERT_FILE = path.join(FIXTURES_DIR, 'tls', 'cert.pem');
export const TLS_KEY_FILE = path.join(FIXTURES_DIR, 'tls', 'key.pem');
