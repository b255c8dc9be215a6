/**
 * Talking to a running server's concept API the way the frontend does.
 *
 * @module
 */

/** POSTs one action and returns the status and parsed body; `signal` can end a request that takes too long. */
export async function callAction(
  baseUrl: string,
  path: string,
  body: unknown,
  token?: string,
  signal?: AbortSignal,
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(`${baseUrl}/api/${path}`, {
    signal,
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/** Registers a person and logs them in; returns their bearer token. */
export async function signUp(
  baseUrl: string,
  username: string,
  password = "correct horse battery",
): Promise<string> {
  const registered = await callAction(baseUrl, "UserAuth/register", { username, password });
  if (registered.status !== 200) {
    throw new Error(`register: ${registered.status} ${JSON.stringify(registered.body)}`);
  }
  const login = await callAction(baseUrl, "UserAuth/login", { username, password });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${JSON.stringify(login.body)}`);
  return (login.body as { token: string }).token;
}

/** One request that does database work: the newest journal entries of the token's person. */
export function readEntries(baseUrl: string, token: string): Promise<{ status: number; headers: Headers }> {
  return callAction(baseUrl, "JournalEntry/_getEntries", { limit: 5 }, token);
}
