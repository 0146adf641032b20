/** Seeded PRNG for randomised tests (a failure names its seed and replays exactly): the one kairosdb-local's ingest delay uses. */
export { seededRandom } from '../../src/server/random';
