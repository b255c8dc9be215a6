/**
 * The inputs UserAuth accepts over HTTP.
 *
 * @module
 */
import { z } from "zod";

/** 3 to 32 letters, digits, `_`, `.` or `-`; unique regardless of case. */
export const Username = z.string().min(3).max(32).regex(
  /^[A-Za-z0-9_.-]+$/,
  "may hold only letters, digits, '_', '.' and '-'",
);

/** 8 to 256 characters; the upper bound keeps hashing cost bounded. */
export const Password = z.string().min(8).max(256);

/** `register`: a new account. */
export const RegisterInput = z.strictObject({ username: Username, password: Password });

/** `login`: a username and password for a token. */
export const LoginInput = z.strictObject({ username: Username, password: z.string().min(1).max(256) });

/** `logout`: revokes the token the request was made with. */
export const LogoutInput = z.strictObject({});

/** `_getUser`: who the token belongs to. */
export const GetUserInput = z.strictObject({});
