/**
 * The inputs CallScheduler accepts over HTTP, and its statuses.
 *
 * @module
 */
import { z } from "zod";
import { Id, IsoInstant } from "../schemas.ts";

/** A call's statuses. PENDING and IN_PROGRESS are "active": a person has at most one active call. */
export const CallStatus = z.enum(["PENDING", "IN_PROGRESS", "COMPLETED", "FAILED", "CANCELLED"]);

/** `scheduleCall`: phone the person for a reflection session at `scheduledFor`. */
export const ScheduleCallInput = z.strictObject({ reflectionSession: Id, scheduledFor: IsoInstant });

/** `cancelCall`: only a call that is still PENDING can be cancelled. */
export const CancelCallInput = z.strictObject({ call: Id });

/** `_getActiveCallsForUser`. */
export const GetActiveCallsInput = z.strictObject({});

/** `_getScheduledCall`. */
export const GetScheduledCallInput = z.strictObject({ call: Id });
