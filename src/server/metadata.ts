/**
 * KairosDB's metadata service: a string key/value store addressed by service / serviceKey / key,
 * kept beside the time series (and persisted through the same log).
 */
export class MetadataStore {
  private readonly data = new Map<string, Map<string, Map<string, string>>>();

  set(service: string, serviceKey: string, key: string, value: string): void {
    let s = this.data.get(service);
    if (!s) this.data.set(service, (s = new Map()));
    let k = s.get(serviceKey);
    if (!k) s.set(serviceKey, (k = new Map()));
    k.set(key, value);
  }

  get(service: string, serviceKey: string, key: string): string | undefined {
    return this.data.get(service)?.get(serviceKey)?.get(key);
  }

  delete(service: string, serviceKey: string, key: string): void {
    const s = this.data.get(service);
    const k = s?.get(serviceKey);
    if (!s || !k) return;
    k.delete(key);
    if (k.size === 0) s.delete(serviceKey);
    if (s.size === 0) this.data.delete(service);
  }

  serviceKeys(service: string): string[] {
    return [...(this.data.get(service)?.keys() ?? [])].sort();
  }

  keys(service: string, serviceKey: string, startsWith?: string): string[] {
    const all = [...(this.data.get(service)?.get(serviceKey)?.keys() ?? [])].sort();
    return startsWith ? all.filter((k) => k.startsWith(startsWith)) : all;
  }

  *entries(): Generator<[string, string, string, string]> {
    for (const [service, s] of this.data) for (const [serviceKey, k] of s) for (const [key, v] of k) yield [service, serviceKey, key, v];
  }
}
