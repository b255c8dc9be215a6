/**
 * Turning zod schemas into the API document's JSON Schemas: named schemas (`.meta({ id })`) go to
 * `components.schemas` once and are referenced from where they are used.
 *
 * @module
 */
import { z } from "zod";

/** A JSON object. */
export type JsonObject = Record<string, unknown>;

/** Collects the named schemas that the converted schemas refer to. */
export class SchemaComponents {
  readonly schemas: Record<string, JsonObject> = {};

  /** `schema` as JSON Schema for the document (`io`: the request's side or the response's). */
  convert(schema: z.ZodType, io: "input" | "output"): JsonObject {
    const json = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as JsonObject;
    const text = JSON.stringify(json).replaceAll('"#/$defs/', '"#/components/schemas/');
    const { $schema: _, $defs, ...rest } = JSON.parse(text) as JsonObject & {
      $defs?: Record<string, JsonObject>;
    };
    for (const [name, def] of Object.entries($defs ?? {})) this.schemas[name] ??= def;
    return rest;
  }
}
