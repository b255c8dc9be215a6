/**
 * Document validation: a collection's `validator` (a query, `$jsonSchema` included) checked on every insert
 * and update, honouring `validationLevel` and `validationAction` as mongod does.
 *
 * @module
 */
import type { Document } from "bson";
import { CommandError } from "../errors.ts";
import { devdbLogger } from "../log.ts";
import { Query } from "./mingo_context.ts";
import { withMingo } from "./query.ts";

const log = devdbLogger("validation");
const compiled = new WeakMap<Document, Query>();

// Operators mongod does not allow inside a validator.
const REFUSED = ["$where", "$near", "$nearSphere", "$text", "$expr.$function"];

/** The compiled validator; BadValue or FailedToParse when mongod would refuse it at create or collMod. */
export function compileValidator(validator: Document): Query {
  let query = compiled.get(validator);
  if (!query) {
    const text = JSON.stringify(validator);
    for (const operator of REFUSED) {
      if (text.includes(`"${operator}"`)) {
        throw new CommandError("BadValue", `${operator} is not allowed inside of a validator`);
      }
    }
    query = withMingo(() => new Query(validator));
    compiled.set(validator, query);
  }
  return query;
}

/**
 * DocumentValidationFailure (121) when `doc` fails the collection's validator. Under `validationLevel:
 * "moderate"` an update of a document that already failed is let through; `validationAction: "warn"` logs.
 */
export function checkValidation(options: Document, doc: Document, previous?: Document): void {
  const validator = options.validator as Document | undefined;
  if (!validator || Object.keys(validator).length === 0 || options.validationLevel === "off") return;
  const query = compileValidator(validator);
  if (withMingo(() => query.test(doc))) return;
  if (previous && options.validationLevel === "moderate" && !withMingo(() => query.test(previous))) return;
  if (options.validationAction === "warn") {
    log.warn("Document would fail validation: {id}", { id: String(doc._id) });
    return;
  }
  const operatorName = Object.keys(validator).length === 1 ? Object.keys(validator)[0] : "$and";
  throw new CommandError("DocumentValidationFailure", "Document failed validation", {
    errInfo: { failingDocumentId: doc._id, details: { operatorName, specifiedAs: validator } },
  });
}
