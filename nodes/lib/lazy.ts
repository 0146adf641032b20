/**
 * A module required on first use. Node-RED requires every installed node file at start-up, used or
 * not; the node files only register their types and load their runtime when a node is first deployed.
 */
export function lazy<T>(load: () => T): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= load());
}
