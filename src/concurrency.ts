// At most N things at once: for the domains verify --config and the watcher ask.

/**
 * `fn` over `items`, at most `limit` at a time, results in the items' order. Once `stop` aborts,
 * no item is started (those under way finish; their places stay empty).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
  stop?: AbortSignal,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length && !stop?.aborted) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  return results;
}
