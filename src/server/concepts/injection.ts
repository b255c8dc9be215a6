/**
 * Operator injection guard: no key in a request body may start with `$`, or contain `.` or NUL, at any
 * depth. Such keys are how `{ "$ne": null }` or `{ "a.b": 1 }` would reach a MongoDB filter or update, and
 * a NUL cannot be stored in a field name at all.
 *
 * @module
 */

/** Where an unsafe key sits, as a dotted path for the error message (e.g. `order[2].$gt`). */
export interface UnsafeKey {
  path: string;
  key: string;
}

/**
 * The first key in `value` that starts with `$` or contains `.` or NUL, searched depth-first without recursion
 * (a 64 KiB body can nest thousands deep), or undefined when there is none.
 */
export function findUnsafeKey(value: unknown): UnsafeKey | undefined {
  const stack: { value: unknown; path: string }[] = [{ value, path: "" }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (Array.isArray(current)) {
      current.forEach((item, i) => stack.push({ value: item, path: `${path}[${i}]` }));
    } else if (current !== null && typeof current === "object") {
      for (const [key, child] of Object.entries(current)) {
        const here = path ? `${path}.${key}` : key;
        if (key.startsWith("$") || key.includes(".") || key.includes("\0")) return { path: here, key };
        stack.push({ value: child, path: here });
      }
    }
  }
  return undefined;
}
