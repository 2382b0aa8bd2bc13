import { z } from "zod";

/**
 * `bootwarden status --json`, version 1, as a schema: schema/status.schema.json is generated from it (npm run
 * schema), and the tests validate what status prints against it. Strict: a field that is not here is an error, so
 * the output cannot grow internal fields unnoticed. src/core/status-json.ts builds it.
 */
const state = z.enum(["good", "bad", "indeterminate"]);
const slot = z.strictObject({
  name: z.string(),
  booted: z.boolean(),
  state: state.describe("the slot's state; the booted slot's is the top-level state"),
  detail: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .describe("the boot loader's own figures for the slot (priority, tries, BOOT_x_LEFT...)"),
});
const check = z.strictObject({
  id: z.string().describe("unit:NAME, flag:PATH, failFlag:PATH, command:..."),
  kind: z.enum(["unit", "flag", "failFlag", "noFailedUnits", "command"]),
  critical: z.boolean(),
  status: z.enum(["pending", "settling", "passed", "failed"]),
  detail: z.string(),
});

export const statusSchema = z.strictObject({
  version: z.literal(1),
  backend: z.enum(["gpt", "grubenv", "bls", "uboot"]),
  source: z.string().describe("where the boot state lives: a disk, a grubenv file, the ESP, the U-Boot env"),
  bootedSlot: z.string(),
  os: z.string().optional().describe("the running OS, os-release's PRETTY_NAME"),
  trialBoot: z.boolean(),
  state,
  triesLeft: z.int().min(0).optional().describe("boot attempts the boot loader still grants this trial"),
  triesDone: z
    .int()
    .min(0)
    .optional()
    .describe("boot attempts made, where the boot loader records them (+LEFT-DONE)"),
  try: z.strictObject({ n: z.int().min(1), of: z.int().min(1) }).optional(),
  nextBoot: z.string().optional().describe("the slot the boot loader picks at the next boot"),
  rolledBackFrom: z.strictObject({ slot: z.string(), reason: z.string() }).optional(),
  problems: z.array(z.string()).optional(),
  slots: z.array(slot),
  assessment: z
    .strictObject({
      status: z.enum(["assessing", "decided"]),
      action: z.enum(["rollback", "retry", "report"]),
      deadline: z
        .strictObject({
          at: z.iso.datetime().describe("the wall-clock time (UTC, ISO 8601)"),
          secondsLeft: z.int().min(0),
        })
        .optional()
        .describe("while assessing"),
      verdict: z
        .strictObject({ verdict: z.enum(["healthy", "degraded", "unhealthy"]), reason: z.string() })
        .optional(),
      checks: z.array(check),
    })
    .optional()
    .describe("this trial boot's assessment; absent on a normal boot"),
  notes: z.array(z.string()).optional(),
  daemonError: z
    .string()
    .optional()
    .describe("the daemon could not assess this boot; the backstop still acts"),
});
