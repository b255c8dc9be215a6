/**
 * Command errors with MongoDB's real codes and code names.
 *
 * @module
 */

/** The server error codes this server answers with, by code name. */
export const ErrorCode = {
  InternalError: 1,
  BadValue: 2,
  FailedToParse: 9,
  TypeMismatch: 14,
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  CursorNotFound: 43,
  NamespaceExists: 48,
  CommandNotFound: 59,
  ImmutableField: 66,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  CannotCreateIndex: 67,
  NotImplemented: 238,
  MechanismUnavailable: 334,
  UnsupportedOpQueryCommand: 352,
  Location40324: 40324,
  DuplicateKey: 11000,
  // Authentication and replica-set errors (issue 11).
  UserNotFound: 11,
  Unauthorized: 13,
  AuthenticationFailed: 18,
  RoleNotFound: 31,
  NoReplicationEnabled: 76,
  PrimarySteppedDown: 189,
  TransactionTooOld: 225,
  AtlasError: 8000,
  NotWritablePrimary: 10107,
  InterruptedDueToReplStateChange: 11602,
  NotPrimaryNoSecondaryOk: 13435,
  Location51003: 51003,
} as const;

/** One of the code names above. */
export type CodeName = keyof typeof ErrorCode;

/** An error that becomes an `{ ok: 0, errmsg, code, codeName }` reply. */
export class CommandError extends Error {
  /** The numeric server code. */
  readonly code: number;
  /** The code's name, e.g. `NamespaceNotFound`. */
  readonly codeName: string;
  /** Extra fields copied into the error reply (e.g. `keyPattern`, `keyValue`). */
  readonly extra: Record<string, unknown>;

  constructor(codeName: CodeName, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = "CommandError";
    this.code = ErrorCode[codeName];
    this.codeName = codeName === "Location40324" ? "Location40324" : codeName;
    this.extra = extra;
  }

  /** The reply document a client sees. */
  toReply(): Record<string, unknown> {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra };
  }
}
