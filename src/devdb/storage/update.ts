/**
 * Applying update documents (operators, replacements, pipelines) with `mingo`, copy-on-write.
 *
 * @module
 */
import { type Document, ObjectId } from "bson";
import { update as mingoUpdate } from "mingo";
import { Aggregator } from "./mingo_context.ts";
import * as updateOperators from "mingo/operators/update";
import { CommandError } from "../errors.ts";
import { cloneValue } from "./clone.ts";
import { canonicalKey, isPlainObject } from "./keys.ts";
import { withMingo } from "./query.ts";
import { checkOperands } from "./update_checks.ts";

const OPERATORS = new Set([
  "$addToSet",
  "$bit",
  "$currentDate",
  "$inc",
  "$max",
  "$min",
  "$mul",
  "$pop",
  "$pull",
  "$pullAll",
  "$push",
  "$rename",
  "$set",
  "$unset",
  "$setOnInsert",
]);

/** How an update is applied. */
export interface UpdateOptions {
  arrayFilters?: Document[];
  /** The statement's filter, for the positional `$` operator. */
  filter?: Document;
  /** True when the update builds an upserted document (so `$setOnInsert` applies). */
  inserting?: boolean;
  /** The command's `let` variables, for pipeline updates. */
  variables?: Document;
}

/** Whether an update document is an operator update (as opposed to a replacement). */
export function isOperatorUpdate(update: Document | Document[]): boolean {
  if (Array.isArray(update)) return false;
  const first = Object.keys(update)[0];
  return first !== undefined && first.startsWith("$");
}

/** The updated copy of `doc`, or `undefined` when the update changes nothing. `doc` is left untouched. */
export function applyUpdate(
  doc: Document,
  update: Document | Document[],
  options: UpdateOptions,
): Document | undefined {
  let next: Document;
  if (Array.isArray(update)) {
    const stages = update;
    next = withMingo(() =>
      new Aggregator(stages, { variables: options.variables }).run([cloneValue(doc)])[0] as Document
    );
    if (next._id === undefined && doc._id !== undefined) next = { _id: doc._id, ...next };
    if (canonicalKey(next) === canonicalKey(doc)) return undefined;
  } else if (isOperatorUpdate(update)) {
    next = cloneValue(doc);
    const modifier = cloneValue(operatorsOf(update, options.inserting === true));
    if (!withImmutableId(() => applyOperators(next, modifier, options))) return undefined;
  } else {
    next = replacementOf(doc, update);
    if (canonicalKey(next) === canonicalKey(doc)) return undefined;
  }
  if (doc._id !== undefined && canonicalKey(next._id) !== canonicalKey(doc._id)) {
    throw new CommandError("ImmutableField", IMMUTABLE_ID_MESSAGE);
  }
  return withIdFirst(next);
}

const IMMUTABLE_ID_MESSAGE = "Performing an update on the path '_id' would modify the immutable field '_id'";

// mingo refuses `_id` changes itself, with a message of its own; answer with mongod's code and words.
function withImmutableId<T>(run: () => T): T {
  try {
    return withMingo(run);
  } catch (error) {
    if (error instanceof CommandError && /immutable field '_id'/.test(error.message)) {
      throw new CommandError("ImmutableField", IMMUTABLE_ID_MESSAGE);
    }
    throw error;
  }
}

type OperatorName = keyof typeof updateOperators;

// mingo's `update()` sets up a fresh operator context per call (~100 µs); its operators called directly take
// a few µs. Only the positional `$` (which needs the query) and `$rename` (whose targets need joint
// validation) go through `update()`.
function applyOperators(doc: Document, modifier: Document, options: UpdateOptions): boolean {
  checkOperands(doc, modifier);
  const needsQuery = "$rename" in modifier ||
    Object.values(modifier).some((fields) => Object.keys(fields).some((path) => /(^|\.)\$(\.|$)/.test(path)));
  if (needsQuery) {
    const changed = mingoUpdate(doc, modifier, options.arrayFilters, options.filter as never, {
      cloneMode: "deep",
    });
    return changed.length > 0;
  }
  let changed = false;
  for (const [operator, fields] of Object.entries(modifier)) {
    const apply = updateOperators[operator as OperatorName] as (
      expr: Document,
      arrayFilters?: Document[],
    ) => (obj: Document) => string[];
    if (apply(fields, options.arrayFilters ?? [])(doc).length) changed = true;
  }
  return changed;
}

function operatorsOf(update: Document, inserting: boolean): Document {
  const modifier: Document = {};
  for (const [operator, fields] of Object.entries(update)) {
    if (!OPERATORS.has(operator)) {
      throw new CommandError(
        "FailedToParse",
        `Unknown modifier: ${operator}. Expected a valid update modifier or pipeline-style update specified as an array`,
      );
    }
    if (!isPlainObject(fields)) {
      throw new CommandError(
        "FailedToParse",
        `Modifiers operate on fields but we found type ${typeof fields} instead.`,
      );
    }
    if (operator === "$setOnInsert") {
      if (inserting) modifier.$set = { ...(modifier.$set ?? {}), ...fields };
      continue;
    }
    modifier[operator] = operator === "$set" ? { ...(modifier.$set ?? {}), ...fields } : fields;
  }
  return modifier;
}

function replacementOf(doc: Document, replacement: Document): Document {
  for (const field of Object.keys(replacement)) {
    if (field.startsWith("$")) {
      throw new CommandError(
        "BadValue",
        `The dollar ($) prefixed field '${field}' is not allowed in a replacement`,
      );
    }
  }
  const next = cloneValue(replacement);
  if (next._id === undefined && doc._id !== undefined) return { _id: doc._id, ...next };
  return next;
}

/** The document an upsert inserts: the filter's equality fields, then the update applied to it. */
export function upsertDocument(
  filter: Document | undefined,
  update: Document | Document[],
  options: UpdateOptions,
): Document {
  const seed: Document = {};
  if (isOperatorUpdate(update) || Array.isArray(update)) {
    // mingo's $set refuses `_id` (it is immutable once set), so the filter's `_id` seeds the document directly.
    const { _id, ...equalities } = equalityFields(filter ?? {});
    if (_id !== undefined) seed._id = _id;
    if (Object.keys(equalities).length) {
      withMingo(() => mingoUpdate(seed, { $set: equalities }, [], undefined, { cloneMode: "deep" }));
    }
  } else if (filter && filter._id !== undefined && !isPlainObject(filter._id)) {
    seed._id = filter._id;
  }
  const built = applyUpdate(seed, update, { ...options, inserting: true }) ?? seed;
  return withIdFirst(built._id === undefined ? { _id: new ObjectId(), ...built } : built);
}

function equalityFields(filter: Document): Document {
  const fields: Document = {};
  for (const [field, condition] of Object.entries(filter)) {
    if (field === "$and" && Array.isArray(condition)) {
      for (const part of condition) Object.assign(fields, equalityFields(part));
    } else if (!field.startsWith("$")) {
      if (isPlainObject(condition) && Object.keys(condition).some((key) => key.startsWith("$"))) {
        if ("$eq" in condition) fields[field] = cloneValue(condition.$eq);
      } else {
        fields[field] = cloneValue(condition);
      }
    }
  }
  return fields;
}

/** The document with `_id` as its first field, as mongod stores it. */
export function withIdFirst(doc: Document): Document {
  const first = Object.keys(doc)[0];
  if (first === "_id" || doc._id === undefined) return doc;
  const { _id, ...rest } = doc;
  return { _id, ...rest };
}
