/**
 * The replica-set state of the members of one process: who is primary, the term, step-downs, elections
 * after a delay, and each member's topologyVersion with the awaitable hellos waiting on it.
 *
 * There is no replication: the members share one storage, so a write is visible everywhere at once.
 *
 * @module
 */
import { type Document, Long, ObjectId, Timestamp } from "bson";
import { devdbLogger } from "../log.ts";

const log = devdbLogger("replica");

/** How long new writes get PrimarySteppedDown (189) before the old primary answers NotWritablePrimary. */
export const STEPPING_DOWN_MS = 100;
/** mongod's default `replSetStepDown` period. */
export const DEFAULT_STEP_DOWN_SECONDS = 60;

/** What one member's commands see of the set. */
export interface ReplicaMember {
  /** The set's name. */
  readonly setName: string;
  /** This member's index. */
  readonly index: number;
  /** Whether writes are accepted here. */
  isWritablePrimary(): boolean;
  /** Whether this member is in the moment of stepping down (new writes get 189). */
  steppingDown(): boolean;
  /** The replica-set fields of `hello`. */
  helloFields(): Document;
  /** This member's `topologyVersion`. */
  topologyVersion(): { processId: ObjectId; counter: Long };
  /** Resolves when this member's topology changes, after `ms`, or when `signal` aborts. */
  topologyChange(ms: number, signal: AbortSignal): Promise<void>;
  /** `replSetStepDown` on this member: NotWritablePrimary if it is not the primary. */
  stepDown(seconds: number): void;
  /** `replSetGetStatus`. */
  status(): Document;
}

/** What the set asks of the process when a primary steps down. */
export type StepDownHook = (index: number) => void;

class MemberView implements ReplicaMember {
  readonly index: number;
  readonly #set: ReplicaSet;
  processId = new ObjectId();
  counter = 0;
  readonly waiters = new Set<() => void>();

  constructor(set: ReplicaSet, index: number) {
    this.#set = set;
    this.index = index;
  }

  get setName(): string {
    return this.#set.name;
  }

  isWritablePrimary(): boolean {
    return this.#set.primaryIndex() === this.index;
  }

  steppingDown(): boolean {
    return this.#set.steppingDown(this.index);
  }

  helloFields(): Document {
    return this.#set.helloFields(this.index);
  }

  topologyVersion(): { processId: ObjectId; counter: Long } {
    return { processId: this.processId, counter: Long.fromNumber(this.counter) };
  }

  topologyChange(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal.addEventListener("abort", done);
    });
  }

  /** Announces a change: every held hello answers now. */
  bump(): void {
    this.counter++;
    for (const done of [...this.waiters]) done();
  }

  stepDown(seconds: number): void {
    this.#set.stepDown(this.index, seconds);
  }

  status(): Document {
    return this.#set.status(this.index);
  }
}

/** The set: members by index, the primary, the term and the pending election. */
export class ReplicaSet {
  readonly name: string;
  readonly hosts: string[];
  readonly electionDelayMs: number;
  readonly views: MemberView[];
  readonly #onStepDown: StepDownHook;
  readonly #alive: boolean[];
  readonly #frozenUntil: number[];
  #primary: number | null = 0;
  #previousPrimary = 0;
  #term = 1;
  #steppingDown?: { index: number; until: number };
  #election?: ReturnType<typeof setTimeout>;
  #stopped = false;
  #electionDate = new Date();

  constructor(name: string, hosts: string[], electionDelayMs: number, onStepDown: StepDownHook) {
    this.name = name;
    this.hosts = hosts;
    this.electionDelayMs = electionDelayMs;
    this.#onStepDown = onStepDown;
    this.views = hosts.map((_, i) => new MemberView(this, i));
    this.#alive = hosts.map(() => true);
    this.#frozenUntil = hosts.map(() => 0);
  }

  /** The primary's index, or null while there is none. */
  primaryIndex(): number | null {
    return this.#primary;
  }

  /** Whether member `index` is in its step-down moment. */
  steppingDown(index: number): boolean {
    const stepping = this.#steppingDown;
    return stepping !== undefined && stepping.index === index && Date.now() < stepping.until;
  }

  /** Steps the primary `index` down; it may not be elected for `seconds`; an election follows. */
  stepDown(index: number, seconds: number): void {
    if (this.#primary !== index) throw new NotPrimaryError();
    log.info("member {index} steps down for {seconds} s", { index, seconds });
    this.#frozenUntil[index] = Date.now() + seconds * 1000;
    this.#steppingDown = { index, until: Date.now() + STEPPING_DOWN_MS };
    this.#losePrimary();
    this.#onStepDown(index);
  }

  /** Member `index` went down (killed); an election follows if it was the primary. */
  memberDown(index: number): void {
    this.#alive[index] = false;
    if (this.#primary === index) this.#losePrimary();
    else this.#announce();
  }

  /** Member `index` is back, with a new process id; it may take part in a pending election. */
  memberUp(index: number): void {
    this.#alive[index] = true;
    const view = this.views[index];
    view.processId = new ObjectId();
    view.counter = 0;
    this.#announce();
    if (this.#primary === null) this.#scheduleElection(this.electionDelayMs);
  }

  /** Cancels the pending election and answers every held hello. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#election);
    for (const view of this.views) view.bump();
  }

  helloFields(index: number): Document {
    const primary = this.#primary;
    const writable = primary === index;
    const now = new Date();
    const opTime = {
      ts: new Timestamp({ t: Math.floor(now.getTime() / 1000), i: 1 }),
      t: Long.fromNumber(this.#term),
    };
    return {
      topologyVersion: this.views[index].topologyVersion(),
      hosts: this.hosts,
      setName: this.name,
      setVersion: 1,
      isWritablePrimary: writable,
      secondary: !writable,
      ...(primary !== null ? { primary: this.hosts[primary] } : {}),
      me: this.hosts[index],
      ...(writable ? { electionId: electionId(this.#term) } : {}),
      lastWrite: { opTime, lastWriteDate: now, majorityOpTime: opTime, majorityWriteDate: now },
    };
  }

  status(index: number): Document {
    return {
      set: this.name,
      date: new Date(),
      myState: this.#primary === index ? 1 : 2,
      term: Long.fromNumber(this.#term),
      members: this.hosts.map((name, i) => ({
        _id: i,
        name,
        health: this.#alive[i] ? 1 : 0,
        state: !this.#alive[i] ? 8 : this.#primary === i ? 1 : 2,
        stateStr: !this.#alive[i] ? "(not reachable/healthy)" : this.#primary === i ? "PRIMARY" : "SECONDARY",
        ...(this.#primary === i ? { electionDate: this.#electionDate } : {}),
        ...(i === index ? { self: true } : {}),
      })),
      ok: 1,
    };
  }

  #losePrimary(): void {
    if (this.#primary !== null) this.#previousPrimary = this.#primary;
    this.#primary = null;
    this.#announce();
    this.#scheduleElection(this.electionDelayMs);
  }

  #announce(): void {
    this.views.forEach((view, i) => {
      if (this.#alive[i]) view.bump();
    });
  }

  #scheduleElection(delayMs: number): void {
    if (this.#election !== undefined || this.#stopped) return;
    this.#election = setTimeout(() => {
      this.#election = undefined;
      this.#elect();
    }, Math.max(0, delayMs));
  }

  #elect(): void {
    if (this.#primary !== null || this.#stopped) return;
    const now = Date.now();
    const count = this.hosts.length;
    // Prefer the members after the old primary, so that a step-down hands over to someone else.
    const order = Array.from({ length: count }, (_, k) => (this.#previousPrimary + 1 + k) % count);
    const candidate = order.find((i) => this.#alive[i] && this.#frozenUntil[i] <= now);
    if (candidate === undefined) {
      const frozen = order.filter((i) => this.#alive[i]).map((i) => this.#frozenUntil[i]);
      // Nobody alive: wait for memberUp(); everybody frozen: try again when the first thaws.
      if (frozen.length) this.#scheduleElection(Math.min(...frozen) - now);
      return;
    }
    this.#term++;
    this.#primary = candidate;
    this.#steppingDown = undefined;
    this.#electionDate = new Date();
    log.info("member {index} elected primary in term {term}", { index: candidate, term: this.#term });
    this.#announce();
  }
}

/** `replSetStepDown` on a member that is not the primary. */
export class NotPrimaryError extends Error {
  constructor() {
    super("not primary so can't step down");
    this.name = "NotPrimaryError";
  }
}

// mongod's electionId: 0x7fffffff followed by the term, so that ids grow with the term.
function electionId(term: number): ObjectId {
  return new ObjectId("7fffffff" + term.toString(16).padStart(16, "0"));
}
