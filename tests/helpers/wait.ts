/**
 * Waiting for a condition with a deadline, instead of sleeping and hoping.
 *
 * @module
 */

/**
 * Polls `condition` until it holds (or resolves truthy), failing after `timeoutMs` with `what` in the message.
 *
 * @example
 * ```ts
 * await waitFor(() => server.stats().connections.current === 0, { what: "connections to close" });
 * ```
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  options: { what: string; timeoutMs?: number; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${options.timeoutMs ?? 10_000} ms waiting for ${options.what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 10));
  }
}
