/**
 * The inputs JournalPrompt accepts over HTTP.
 *
 * @module
 */
import { z } from "zod";
import { Id } from "../schemas.ts";

/** The most prompts one person may keep. */
export const MAX_PROMPTS = 20;

/** A prompt's wording. */
export const PromptText = z.string().trim().min(1).max(500);

/** `addPrompt`: a new active prompt at the end of the list. */
export const AddPromptInput = z.strictObject({ text: PromptText });

/** `updatePrompt`: new wording, or switching a prompt on or off. */
export const UpdatePromptInput = z.strictObject({
  prompt: Id,
  text: PromptText.optional(),
  active: z.boolean().optional(),
}).refine((input) => input.text !== undefined || input.active !== undefined, {
  message: "give text or active (or both)",
  path: ["text"],
});

/** `deletePrompt`. */
export const DeletePromptInput = z.strictObject({ prompt: Id });

/** `reorderPrompts`: every one of the person's prompt ids, in the new order. */
export const ReorderPromptsInput = z.strictObject({ order: z.array(Id).min(1).max(MAX_PROMPTS) });

/** `_getPrompts` and `_getActivePrompts`. */
export const GetPromptsInput = z.strictObject({});
