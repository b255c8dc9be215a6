/**
 * Collection options: what `create` stores (validators and a default collation; views, capped, time-series
 * and clustered collections refused loudly) and `collMod`, which changes validators and TTL indexes.
 *
 * @module
 */
import type { Document } from "bson";
import { CommandError } from "../errors.ts";
import { canonicalKey, isPlainObject } from "../storage/keys.ts";
import { collatorOf } from "../storage/mingo_context.ts";
import { compileValidator } from "../storage/validation.ts";
import { collectionName, type CommandContext } from "./context.ts";

const GENERIC = new Set([
  "$db",
  "lsid",
  "$clusterTime",
  "$readPreference",
  "writeConcern",
  "comment",
  "apiVersion",
]);
const STORED = new Set(["validator", "validationLevel", "validationAction", "collation"]);
// Options mongod takes that would change what the collection is; the devdb has none of those kinds.
const REFUSED: Record<string, string> = {
  viewOn: "views",
  pipeline: "views",
  capped: "capped collections",
  size: "capped collections",
  max: "capped collections",
  timeseries: "time-series collections",
  expireAfterSeconds: "time-series collections",
  clusteredIndex: "clustered collections",
  changeStreamPreAndPostImages: "change streams",
  encryptedFields: "queryable encryption",
  storageEngine: "storage engine options",
  indexOptionDefaults: "storage engine options",
};

function refused(command: string, field: string): CommandError {
  return new CommandError(
    "CommandNotSupported",
    `${REFUSED[field]} are not supported by the devdb (embedded server): ${command} with '${field}'`,
  );
}

function checkValidationOptions(options: Document): void {
  if (options.validator !== undefined) {
    if (!isPlainObject(options.validator)) {
      throw new CommandError(
        "TypeMismatch",
        "BSON field 'validator' is the wrong type, expected type 'object'",
      );
    }
    compileValidator(options.validator);
  }
  const level = options.validationLevel;
  if (level !== undefined && !["off", "strict", "moderate"].includes(level)) {
    throw new CommandError(
      "BadValue",
      `Enumeration value '${level}' for field 'validationLevel' is not a valid value.`,
    );
  }
  const action = options.validationAction;
  if (action !== undefined && !["error", "warn"].includes(action)) {
    throw new CommandError(
      "BadValue",
      `Enumeration value '${action}' for field 'validationAction' is not a valid value.`,
    );
  }
}

/** The options `create` stores; CommandNotSupported (115) for kinds of collection the devdb has not. */
export function createOptions(body: Document): Document {
  const options: Document = {};
  for (const [field, value] of Object.entries(body)) {
    if (field === "create" || GENERIC.has(field)) continue;
    if (field === "capped" && value === false) continue;
    if (field === "idIndex" && isPlainObject(value) && canonicalKey(value.key) === canonicalKey({ _id: 1 })) {
      continue;
    }
    if (field in REFUSED) throw refused("create", field);
    if (!STORED.has(field)) {
      throw new CommandError("Location40415", `BSON field 'create.${field}' is an unknown field.`);
    }
    options[field] = value;
  }
  checkValidationOptions(options);
  if (options.collation !== undefined) {
    if (!isPlainObject(options.collation)) {
      throw new CommandError(
        "TypeMismatch",
        "BSON field 'collation' is the wrong type, expected type 'object'",
      );
    }
    collatorOf(options.collation);
    if (options.collation.locale === "simple") delete options.collation;
  }
  return options;
}

/** collMod: a new validator, validation level or action, or a TTL index's expireAfterSeconds. */
export function collMod(context: CommandContext): Document {
  const { server, db, body } = context;
  const name = collectionName(context);
  const collection = server.catalog.get(db, name);
  if (!collection) throw new CommandError("NamespaceNotFound", `ns does not exist: ${db}.${name}`);
  const options = { ...collection.options };
  const reply: Document = {};
  let index: Document | undefined;
  for (const [field, value] of Object.entries(body)) {
    if (field === "collMod" || GENERIC.has(field)) continue;
    if (field in REFUSED) throw refused("collMod", field);
    if (field === "index") {
      if (!isPlainObject(value)) {
        throw new CommandError("TypeMismatch", "BSON field 'collMod.index' must be an object");
      }
      index = value;
      continue;
    }
    if (!STORED.has(field) || field === "collation") {
      throw new CommandError("Location40415", `BSON field 'collMod.${field}' is an unknown field.`);
    }
    options[field] = value;
  }
  checkValidationOptions(options);
  if (index) Object.assign(reply, changeIndex(collection, index, `${db}.${name}`));
  collection.setOptions(options);
  return { ...reply, ok: 1 };
}

function changeIndex(
  collection: NonNullable<ReturnType<CommandContext["server"]["catalog"]["get"]>>,
  change: Document,
  namespace: string,
): Document {
  const specs = collection.indexSpecs();
  const spec = typeof change.name === "string"
    ? specs.find((s) => s.name === change.name)
    : isPlainObject(change.keyPattern)
    ? specs.find((s) => canonicalKey(s.key) === canonicalKey(change.keyPattern))
    : undefined;
  if (!spec) {
    throw new CommandError(
      "IndexNotFound",
      `cannot find index ${JSON.stringify(change.name ?? change.keyPattern)} for ns ${namespace}`,
    );
  }
  for (const field of Object.keys(change)) {
    if (!["name", "keyPattern", "expireAfterSeconds"].includes(field)) {
      throw new CommandError(
        "CommandNotSupported",
        `collMod of index option '${field}' is not supported by the devdb (embedded server)`,
      );
    }
  }
  if (change.expireAfterSeconds === undefined) return {};
  if (spec.expireAfterSeconds === undefined) {
    throw new CommandError("InvalidOptions", "no expireAfterSeconds field to update");
  }
  const seconds = Number(change.expireAfterSeconds);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new CommandError("InvalidOptions", "expireAfterSeconds must be a number >= 0");
  }
  const previous = spec.expireAfterSeconds;
  collection.dropIndex(spec.name);
  collection.createIndex({ ...spec, expireAfterSeconds: seconds });
  return { expireAfterSeconds_old: previous, expireAfterSeconds_new: seconds };
}
