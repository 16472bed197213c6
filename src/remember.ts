// The value a Map holds for a key, made the first time it is asked for.

/**
 * `map`'s value for `key`, made by `make` and kept the first time. With `max`, the map is a
 * cache for the request path: emptied when it holds `max` entries, so a flood of new keys costs
 * memory no more than `max` entries and a few makes. `make` must not return undefined.
 */
export function remember<K, V>(map: Map<K, V>, key: K, make: () => V, max = Infinity): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    if (map.size >= max) map.clear();
    map.set(key, value);
  }
  return value;
}
