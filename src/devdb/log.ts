/**
 * Loggers for the embedded server, under the `zien.devdb` category.
 *
 * Taken from `@logtape/logtape` directly so that `src/devdb/` depends on nothing in the app.
 *
 * @module
 */
import { getLogger, type Logger } from "@logtape/logtape";

/** A logger under `zien.devdb.<category...>`. */
export function devdbLogger(...category: string[]): Logger {
  return getLogger(["zien", "devdb", ...category]);
}
