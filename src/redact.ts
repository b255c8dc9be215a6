/**
 * Credential redaction for anything we write: logs, health output, metrics, error messages.
 *
 * @module
 */
import { redactConnectionString } from "mongodb-connection-string-url";

const userInfo = /(\/\/)[^@/?#]*@/;

/**
 * A URL with its user and password (and any credential-bearing query option) replaced.
 * Uses the driver's own connection-string parser for `mongodb://` URLs, so multi-host seed lists work;
 * anything it cannot parse still loses its `user:password@` part.
 *
 * @example
 * ```ts
 * redactUrl("mongodb://app:s3cret@db1,db2/zien"); // "mongodb://<credentials>@db1,db2/zien"
 * ```
 */
export function redactUrl(url: string): string {
  if (/^mongodb(\+srv)?:\/\//.test(url)) {
    // redactConnectionString falls back to pattern-matching on URLs it cannot parse.
    return redactConnectionString(url, { redactUsernames: true, replacementString: "<credentials>" });
  }
  return url.replace(userInfo, "$1<credentials>@");
}

/**
 * Replaces every credential-bearing URL inside a free-form message (a driver error, say).
 *
 * @example
 * ```ts
 * redactText("connect to mongodb://u:p@h failed"); // "connect to mongodb://<credentials>@h failed"
 * ```
 */
export function redactText(message: string): string {
  return message.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (url) => redactUrl(url));
}
