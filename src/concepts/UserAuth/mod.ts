/**
 * UserAuth: accounts, passwords and bearer tokens.
 *
 * @module
 */
export * from "./user_auth.ts";
export * from "./schemas.ts";
export { PBKDF2_ITERATIONS } from "./password.ts";
export {
  FREE_ATTEMPTS,
  lockSeconds,
  type LoginLimits,
  MAX_LOCK_SECONDS,
  USERNAME_DOUBLING_ATTEMPTS,
  USERNAME_FREE_ATTEMPTS,
  usernameLockSeconds,
} from "./login_throttle.ts";
