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

export const ubootState = z.strictObject({
  backend: z.literal("uboot"),
  scheme: z.enum(["rauc", "mender"]).describe("whose variables: RAUC's BOOT_ORDER/BOOT_x_LEFT, Mender's"),
  envConfig: absPath
    .default("/etc/fw_env.config")
    .describe("libubootenv's configuration, when env is not given"),
  env: z
    .array(envCopy)
    .min(1)
    .max(2)
    .optional()
    .describe("the environment's copies (one, or two for a redundant pair), instead of fw_env.config"),
  cmdline: absPath.default("/proc/cmdline").describe("where rauc.slot= is read"),
  attempts: z.int().min(1).max(9).default(3).describe("RAUC: the tries a good slot gets (boot-attempts)"),
  tries: z.int().min(1).max(9).default(3).describe("the tries `arm` gives (RAUC: boot-attempts-primary)"),
  parts: z
    .tuple([z.string().regex(/^\d+$/), z.string().regex(/^\d+$/)])
    .optional()
    .describe("Mender: the two root partitions (mender.conf's RootfsPartA, RootfsPartB); default 2 and 3"),
});
