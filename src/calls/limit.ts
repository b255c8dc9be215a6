/**
 * Bounded concurrency for the workers: a tick never takes more than its share of the connection pool.
 *
 * @module
 */

/**
 * Runs `task` over `items` with at most `limit` running at once, starting no new one once `signal` aborts.
 * Resolves when every started task has settled; rejects with the first error after that, so no task is left
 * running behind the caller. Returns the items never started.
 *
 * @example
 * ```ts
 * const skipped = await forEachLimit(calls, 4, (call) => place(call), signal);
 * ```
 */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
  signal?: AbortSignal,
): Promise<T[]> {
  let next = 0;
  const errors: unknown[] = [];
  const runner = async () => {
    while (next < items.length && !signal?.aborted && errors.length === 0) {
      const item = items[next++];
      try {
        await task(item);
      } catch (err) {
        errors.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, runner));
  if (errors.length > 0) throw errors[0];
  return items.slice(next);
}
