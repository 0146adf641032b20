/**
 * Object keys that come from users (CSV headers, metric names as row columns): "__proto__" assigned
 * with `obj[key] = value` would set the prototype instead of adding a column, so it is defined as an
 * own, enumerable property. Other names ("constructor", "toString") are plain assignments already.
 */
export function setOwn<R extends Record<string, unknown>>(obj: R, key: string, value: R[string]): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else (obj as Record<string, unknown>)[key] = value;
}
