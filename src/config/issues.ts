import type { z } from "zod";

/**
 * zod's issues in plain words, each naming the key and the form it wants ("assessment.critical.units: must be a list,
 * e.g. [a, b]; got a string"), not the library's ("Invalid input: expected array, received string").
 */
const FORMS: Record<string, string> = {
  array: "a list, e.g. [a, b]",
  object: "a mapping of keys, e.g. {units: [a]}",
  string: "a text",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
};

function typeOf(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return typeof v === "string" ? `the text ${JSON.stringify(v)}` : `${typeof v} ${String(v)}`;
}

function at(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v = raw;
  for (const k of path)
    v = v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/**
 * A union's "Invalid input" says nothing: report the branch the value was meant for (the one whose type matched,
 * e.g. the object form of a command check), at its full path.
 */
function unfold(i: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (i.code !== "invalid_union" || i.errors.length === 0) return [i];
  const meant =
    i.errors.find((b) => b.every((x) => !(x.code === "invalid_type" && x.path.length === 0))) ?? i.errors[0]!;
  return meant.flatMap((x) => unfold({ ...x, path: [...i.path, ...x.path] } as z.core.$ZodIssue));
}

function words(i: z.core.$ZodIssue, raw: unknown): string {
  const got = typeOf(at(raw, i.path));
  switch (i.code) {
    case "unrecognized_keys":
      return `unknown key${i.keys.length > 1 ? "s" : ""} ${i.keys.join(", ")}`;
    case "invalid_type":
      return got === "nothing"
        ? `missing: must be ${FORMS[i.expected] ?? i.expected}`
        : `must be ${FORMS[i.expected] ?? i.expected}; got ${got}`;
    case "invalid_value":
      return `must be ${i.values.length > 1 ? "one of " : ""}${i.values.map((v) => JSON.stringify(v)).join(", ")}; got ${got}`;
    case "invalid_union":
      // A discriminated union: the discriminator's value is not one of the options.
      return `${i.message
        .replace(/^Invalid discriminator value\. Expected /, "must be one of ")
        .replace(/'/g, '"')
        .replace(/ \| /g, ", ")}; got ${got}`;
    case "too_small":
      return i.origin === "array" || i.origin === "string"
        ? `too short: at least ${i.minimum} ${i.origin === "array" ? "item(s)" : "character(s)"}`
        : `too small: at least ${i.minimum}; got ${got}`;
    case "too_big":
      return i.origin === "array" || i.origin === "string"
        ? `too long: at most ${i.maximum} ${i.origin === "array" ? "item(s)" : "character(s)"}`
        : `too big: at most ${i.maximum}; got ${got}`;
    default:
      return i.message;
  }
}

export function formatIssues(issues: readonly z.core.$ZodIssue[], raw: unknown): string {
  return issues
    .flatMap(unfold)
    .map((i) => `${i.path.length ? i.path.join(".") : "(top level)"}: ${words(i, raw)}`)
    .join("; ");
}
