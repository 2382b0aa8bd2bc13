import { z } from "zod";
import { absPath } from "./abs-path.js";

/** `bootState` for the U-Boot environment (RAUC's or Mender's variables), as libubootenv locates it. */
const envCopy = z.strictObject({
  device: absPath.describe("the device or file holding this copy"),
  offset: z.int().min(0),
  size: z
    .int()
    .min(6)
    .max(16 << 20),
});

const name = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "letters, digits, _ . - (at most 64)");

export const ubootState = z
  .strictObject({
    backend: z.literal("uboot"),
    scheme: z
      .enum(["rauc", "mender", "swupdate"])
      .describe("whose variables: RAUC's BOOT_ORDER/BOOT_x_LEFT, Mender's, SWUpdate's ustate"),
    envConfig: absPath
      .default("/etc/fw_env.config")
      .describe("libubootenv's configuration, when env is not given"),
    env: z
      .array(envCopy)
      .min(1)
      .max(2)
      .optional()
      .describe("the environment's copies (one, or two for a redundant pair), instead of fw_env.config"),
    cmdline: absPath
      .default("/proc/cmdline")
      .describe("the kernel command line: rauc.slot= (RAUC), root= (Mender, SWUpdate) name the booted slot"),
    attempts: z.int().min(1).max(9).default(3).describe("RAUC: the tries a good slot gets (boot-attempts)"),
    tries: z.int().min(1).max(9).default(3).describe("the tries `arm` gives (RAUC: boot-attempts-primary)"),
    parts: z
      .tuple([name, name])
      .optional()
      .describe(
        "the two slots: Mender's root partitions (mender.conf's RootfsPartA, RootfsPartB; default 2 and 3), SWUpdate's values of slotVariable",
      ),
    slotVariable: name.optional().describe("SWUpdate: the variable naming the booted slot (your project's)"),
    rootParts: z
      .tuple([
        z.string().regex(/^\d{1,3}$/, "a partition number"),
        z.string().regex(/^\d{1,3}$/, "a partition number"),
      ])
      .optional()
      .describe(
        "SWUpdate with named parts (a, b): the root partition number of each, in the same order, so the booted slot is told from root=",
      ),
  })
  .check((ctx) => {
    const c = ctx.value;
    if (c.scheme === "mender" && c.parts?.some((p) => !/^\d+$/.test(p)))
      ctx.issues.push({
        code: "custom",
        input: c.parts,
        path: ["parts"],
        message: "Mender's parts are partition numbers",
      });
    if (c.rootParts && c.scheme !== "swupdate")
      ctx.issues.push({
        code: "custom",
        input: c.rootParts,
        path: ["rootParts"],
        message: "only for scheme swupdate (Mender's parts are partition numbers already)",
      });
    if (c.scheme === "swupdate" && (!c.slotVariable || !c.parts))
      ctx.issues.push({
        code: "custom",
        input: c,
        path: [c.slotVariable ? "parts" : "slotVariable"],
        message:
          "scheme swupdate needs slotVariable (the variable your boot script picks the slot by) and parts (its two values)",
      });
  });
