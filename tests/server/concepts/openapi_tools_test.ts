/**
 * The API document against the tools people use on it: `@redocly/cli lint` with its recommended rules, and
 * a client typed by `openapi-typescript` that reads `token` from the login answer. Both run from the npm
 * packages the import map pins (`deno task test` installs them first, so this runs offline), with the
 * `openapi-tools` permission set (no network).
 */
import assert from "node:assert/strict";
import { ACTIONS, buildOpenApi } from "../../../src/server/concepts/mod.ts";

// deno.json is JSONC (it carries comments), which a JSON import refuses: its whole-line comments go first.
const denoJson = await Deno.readTextFile(new URL("../../../deno.json", import.meta.url));
const imports: Record<string, string> = JSON.parse(denoJson.replace(/^\s*\/\/.*$/gm, "")).imports;

async function run(pkg: string, args: string[]): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await new Deno.Command("deno", {
    args: ["run", "-P=openapi-tools", "--frozen", "--quiet", imports[pkg], ...args],
    env: { REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

async function withDocument(body: (dir: string, file: string) => Promise<void>): Promise<void> {
  await Deno.mkdir(".data/tmp", { recursive: true });
  const dir = await Deno.makeTempDir({ dir: ".data/tmp", prefix: "openapi-" });
  try {
    const file = `${dir}/openapi.json`;
    await Deno.writeTextFile(file, JSON.stringify(buildOpenApi(ACTIONS), null, 2));
    await body(dir, file);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the API document passes @redocly/cli lint with the recommended rules, warning-free", async () => {
  await withDocument(async (_dir, file) => {
    const { code, output } = await run("@redocly/cli", ["lint", "--format=summary", file]);
    assert.equal(code, 0, output);
    assert.match(output, /valid/);
    assert.doesNotMatch(output, /warning|error/i, output);
  });
});

Deno.test("a client typed by openapi-typescript reads token from the login answer", async () => {
  await withDocument(async (dir, file) => {
    const generated = await run("openapi-typescript", [file, "-o", `${dir}/api.d.ts`]);
    assert.equal(generated.code, 0, generated.output);
    await Deno.writeTextFile(
      `${dir}/client.ts`,
      `import type { paths } from "./api.d.ts";
type Json<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends
  { responses: { 200: { content: { "application/json": infer T } } } } ? T : never;
type Login = Json<"/api/UserAuth/login", "post">;
type Entries = Json<"/api/JournalEntry/_getEntries", "post">;
type Stats = Json<"/api/stats", "get">;
export function readToken(login: Login): string {
  return login.token;
}
export const firstDate = (entries: Entries): string | undefined => entries[0]?.createdAt;
export const streak = (stats: Stats): number => stats.user.currentStreak;
// @ts-expect-error: the login answer has no password
export const leaked = (login: Login) => login.password;
`,
    );
    const checked = await new Deno.Command("deno", {
      args: ["check", "--quiet", "--no-config", `${dir}/client.ts`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(checked.code, 0, new TextDecoder().decode(checked.stderr));
  });
});
