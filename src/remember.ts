// The value a Map holds for a key, made the first time it is asked for.

/** `map`'s value for `key`, made by `make` and kept the first time. */
export function remember<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}
