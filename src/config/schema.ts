import cron from "node-cron";
import { z } from "zod";
import { absPath } from "./abs-path.js";
import { DEFAULT_TEXTFILE_DIRECTORY } from "./defaults.js";
import { durationSchema } from "./duration-schema.js";
import { FLATCAR_USR_TYPE } from "./flatcar.js";
import { ubootState } from "./uboot-schema.js";

const HOUR = 3_600_000;

const slotRef = z.string().regex(/^(PARTLABEL|PARTUUID)=.+$/, "must be PARTLABEL=<label> or PARTUUID=<guid>");

const gptState = z.strictObject({
  backend: z.literal("gpt"),
  disk: absPath.optional().describe("block device or image file; default: the disk of the booted partition"),
  booted: slotRef.optional().describe("the booted slot; default: detected from the kernel command line"),
  partitionType: z
    .string()
    .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, "must be a GUID")
    .default(FLATCAR_USR_TYPE)
    .describe("type GUID shared by the A/B slot partitions"),
  cmdline: absPath.default("/proc/cmdline").describe("where the kernel command line is read from"),
  tries: z.int().min(1).max(15).default(1).describe("tries given by `arm`"),
});

const grubenvState = z.strictObject({
  backend: z.literal("grubenv"),
  path: absPath.default("/boot/grub/grubenv"),
  scheme: z.enum(["greenboot", "kairos"]).default("greenboot"),
  cmdline: absPath.default("/proc/cmdline"),
  tries: z.int().min(1).max(9).default(3).describe("boot_counter given by `arm` (greenboot)"),
});

const blsState = z.strictObject({
  backend: z.literal("bls"),
  esp: absPath
    .optional()
    .describe(
      "the ESP or XBOOTLDR mount point holding loader/entries and EFI/Linux; default: /efi, /boot, /boot/efi",
    ),
  efivars: absPath.default("/sys/firmware/efi/efivars").describe("the efivarfs directory"),
  tries: z.int().min(1).max(99).default(3).describe("tries given by `arm` (+N in the entry's name)"),
});

export const bootStateSchema = z.discriminatedUnion("backend", [
  gptState,
  grubenvState,
  blsState,
  ubootState,
]);

const unitName = z
  .string()
  .regex(
    /^[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\-]*)?\.(service|socket|target|device|mount|automount|swap|timer|path|slice|scope)$/,
    "not a valid systemd unit name (e.g. nginx.service)",
  )
  .max(255);

const commandLine = z.string().trim().min(1, "must not be empty").max(4096);

const commandCheck = z.union([
  commandLine,
  z.strictObject({
    run: commandLine.describe("a command line, run by /bin/sh -c"),
    timeout: durationSchema(1000, HOUR).optional().describe("each attempt is killed after this; 1s to 1h"),
    interval: durationSchema(1000, HOUR)
      .optional()
      .describe("retry a failed attempt after this until it passes or the deadline comes; default: no retry"),
    network: z
      .boolean()
      .optional()
      .describe("start it after network-online.target; default: assessment.network"),
  }),
]);

const checks = z.strictObject({
  units: z.array(unitName).default([]).describe("units that must become active and stay so"),
  flags: z.array(absPath).default([]).describe("files that must appear (e.g. /run/myapp/ready)"),
  failFlags: z.array(absPath).default([]).describe("files whose appearance means failure"),
  commands: z
    .array(commandCheck)
    .default([])
    .describe("commands that must exit 0, each run as a transient unit outside the daemon's sandbox"),
  directories: z
    .array(absPath)
    .default([])
    .describe(
      "every executable (and every *.sh, run by bash) in these directories, e.g. greenboot's required.d",
    ),
});

export const configSchema = z.strictObject({
  bootState: bootStateSchema.default({
    backend: "gpt",
    partitionType: FLATCAR_USR_TYPE,
    cmdline: "/proc/cmdline",
    tries: 1,
  }),
  assessment: z
    .strictObject({
      deadline: durationSchema(5000, 24 * HOUR)
        .default(600_000)
        .describe(
          "from the start of userspace in this boot (CLOCK_MONOTONIC), not from the daemon's start; 5s to 24h",
        ),
      settle: durationSchema(0, HOUR)
        .default(0)
        .describe("how long a critical unit must stay active; at most 1h"),
      action: z
        .enum(["rollback", "retry", "report"])
        .default("rollback")
        .describe(
          "what an unhealthy verdict does: rollback marks the slot bad and reboots into the previous one; retry reboots into the same trial while the boot loader grants it tries (gpt tries, bls +N, grubenv boot_counter) and rolls back on the last; report only reports",
        ),
      critical: checks.prefault({}),
      wanted: checks.prefault({}),
      noFailedUnits: z.boolean().default(false),
      network: z
        .boolean()
        .default(true)
        .describe(
          "command and script checks start after network-online.target (After= and Wants=, as greenboot's do); the deadline still counts from the start of userspace",
        ),
      commandTimeout: durationSchema(1000, HOUR)
        .default(60_000)
        .describe("how long one attempt of a command check may run unless it says otherwise; 1s to 1h"),
      maxFailedTrials: z
        .int()
        .min(1)
        .max(100)
        .default(3)
        .describe(
          "`arm` refuses a slot whose trials failed this many times since it was last blessed (--force)",
        ),
      disabled: z
        .array(z.string().regex(/^[^/]+$/, "must be a script's file name, not a path"))
        .default([])
        .describe(
          "script file names in the check directories not to run (as greenboot's DISABLED_HEALTHCHECKS)",
        ),
      greenbootConfig: absPath
        .optional()
        .describe(
          "read DISABLED_HEALTHCHECKS from this greenboot.conf at every start too (e.g. /etc/greenboot/greenboot.conf)",
        ),
      allowUntrustedFlagPaths: z
        .boolean()
        .default(false)
        .describe(
          "accept flags under directories other users can write (a local user could fake the verdict)",
        ),
    })
    .prefault({}),
  hooks: z
    .strictObject({
      green: z
        .array(commandLine)
        .default([])
        .describe("command lines run after a healthy or degraded verdict"),
      red: z
        .array(commandLine)
        .default([])
        .describe("command lines run after an unhealthy verdict, before the reboot"),
      greenDirectories: z.array(absPath).default([]).describe("e.g. greenboot's /etc/greenboot/green.d"),
      redDirectories: z.array(absPath).default([]).describe("e.g. greenboot's /etc/greenboot/red.d"),
      timeout: durationSchema(1000, HOUR)
        .default(30_000)
        .describe("each hook is killed after this; 1s to 1h"),
      network: z
        .boolean()
        .default(true)
        .describe("hooks start after network-online.target; a hook still waiting at its timeout is given up"),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      textfileDirectory: absPath
        .nullable()
        .default(DEFAULT_TEXTFILE_DIRECTORY)
        .describe(
          "node-exporter's textfile collector directory: bootwarden.prom is written there when it exists; null: no metrics",
        ),
    })
    .prefault({}),
  fleetlock: z
    .strictObject({
      url: z
        .string()
        .regex(/^https?:\/\/[^\s]+$/, "must be an http:// or https:// URL")
        .describe("the FleetLock server (Zincati's protocol): its base URL, before /v1/"),
      group: z
        .string()
        .regex(/^[a-zA-Z0-9.-]+$/, "letters, digits, dots and dashes only (FleetLock's rule)")
        .default("default"),
      id: z.string().min(1).optional().describe("this machine's id in the lock; default: /etc/machine-id"),
    })
    .optional()
    .describe(
      "release the group's reboot lock (steady-state) after a blessed trial; a rolled-back trial keeps it",
    ),
  monitor: z
    .strictObject({
      schedule: z
        .string()
        .refine((v) => cron.validate(v), "not a valid cron expression (e.g. */15 * * * *)")
        .optional()
        .describe("cron expression for re-running the checks after the verdict"),
    })
    .prefault({}),
});

export type Config = z.output<typeof configSchema>;
export type BootStateConfig = Config["bootState"];
export type GptStateConfig = z.output<typeof gptState>;
export type GrubenvStateConfig = z.output<typeof grubenvState>;
export type BlsStateConfig = z.output<typeof blsState>;
export type UbootStateConfig = z.output<typeof ubootState>;
export type ChecksConfig = z.output<typeof checks>;
export type CommandCheckConfig = z.output<typeof commandCheck>;
