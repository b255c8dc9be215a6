/**
 * Ending a child process the way an operator would: SIGTERM, then SIGKILL if it lingers.
 *
 * @module
 */

/**
 * A function that sends SIGTERM, sends SIGKILL after `graceMs` if the child is still running, and resolves
 * once it has exited. Safe to call more than once and after the child exited on its own.
 *
 * @example
 * ```ts
 * const stop = gracefulStop(child);
 * await stop(5_000);
 * ```
 */
export function gracefulStop(child: Deno.ChildProcess): (graceMs?: number) => Promise<void> {
  let exited = false;
  const status = child.status.finally(() => (exited = true));
  return async (graceMs = 5_000) => {
    if (exited) return;
    try {
      child.kill("SIGTERM");
    } catch {
      // It exited between the check and the signal.
    }
    const deadline = setTimeout(() => {
      if (!exited) child.kill("SIGKILL");
    }, graceMs);
    await status;
    clearTimeout(deadline);
  };
}
