/**
 * The `failCommand` fail point as mongod implements it for driver tests, configured by
 * `configureFailPoint` on one member (mongod's fail points are per process).
 *
 * @module
 */
import type { Document } from "bson";
import { CommandError } from "./errors.ts";

/** What a matching command suffers. */
export interface FailCommandAction {
  /** Block this long first. */
  blockMs?: number;
  /** Then close the connection without a reply. */
  closeConnection: boolean;
  /** Or answer with this error code. */
  errorCode?: number;
  /** Labels for that error (mongod adds RetryableWriteError itself when none are given). */
  errorLabels?: string[];
  /** A writeConcernError added to a successful reply. */
  writeConcernError?: Document;
}

interface Configured {
  commands: Set<string>;
  appName?: string;
  skip: number;
  remaining: number;
  action: FailCommandAction;
}

/** One member's fail points (only `failCommand`). */
export class FailPoints {
  #failCommand?: Configured;
  #timesEntered = 0;

  /** Whether `failCommand` is on (the per-command check is skipped otherwise). */
  get active(): boolean {
    return this.#failCommand !== undefined;
  }

  /** `configureFailPoint`: answers `{ count }`, the times the previous configuration fired. */
  configure(body: Document): Document {
    if (body.configureFailPoint !== "failCommand") {
      throw new CommandError("BadValue", `Cannot find failpoint: ${String(body.configureFailPoint)}`);
    }
    const count = this.#timesEntered;
    const mode = body.mode;
    let skip = 0;
    let remaining: number;
    if (mode === "off") {
      this.#failCommand = undefined;
      this.#timesEntered = 0;
      return { count, ok: 1 };
    } else if (mode === "alwaysOn") {
      remaining = Infinity;
    } else if (mode && typeof mode === "object" && Number.isInteger(Number(mode.times)) && mode.times > 0) {
      remaining = Number(mode.times);
    } else if (mode && typeof mode === "object" && Number.isInteger(Number(mode.skip)) && mode.skip >= 0) {
      skip = Number(mode.skip);
      remaining = Infinity;
    } else {
      throw new CommandError("BadValue", "mode must be 'off', 'alwaysOn', {times: n} or {skip: n}");
    }
    const data = (body.data ?? {}) as Document;
    if (!Array.isArray(data.failCommands) || data.failCommands.some((name) => typeof name !== "string")) {
      throw new CommandError("BadValue", "failCommand needs data.failCommands, an array of command names");
    }
    const blockMs = data.blockConnection === true ? Number(data.blockTimeMS ?? 0) : undefined;
    if (blockMs !== undefined && !(blockMs >= 0)) {
      throw new CommandError("BadValue", "blockTimeMS must be >= 0");
    }
    this.#failCommand = {
      commands: new Set(data.failCommands as string[]),
      appName: typeof data.appName === "string" ? data.appName : undefined,
      skip,
      remaining,
      action: {
        blockMs,
        closeConnection: data.closeConnection === true,
        errorCode: typeof data.errorCode === "number" ? data.errorCode : undefined,
        errorLabels: Array.isArray(data.errorLabels) ? data.errorLabels as string[] : undefined,
        writeConcernError: data.writeConcernError as Document | undefined,
      },
    };
    this.#timesEntered = 0;
    return { count, ok: 1 };
  }

  /** The action for command `name` from a client named `appName`, counting it against `times`. */
  match(name: string, appName: string): FailCommandAction | undefined {
    const point = this.#failCommand;
    if (!point || !point.commands.has(name)) return undefined;
    if (point.appName !== undefined && point.appName !== appName) return undefined;
    if (point.skip > 0) {
      point.skip--;
      return undefined;
    }
    this.#timesEntered++;
    if (--point.remaining <= 0) this.#failCommand = undefined;
    return point.action;
  }
}
