import type { BootStateConfig } from "../config/schema.js";
import { BlsBackend } from "./bls/backend.js";
import { GptBackend } from "./gpt/backend.js";
import { GrubenvBackend } from "./grubenv/backend.js";
import type { BootStateBackend } from "./types.js";
import { UbootBackend } from "./uboot/backend.js";

export function createBackend(cfg: BootStateConfig): BootStateBackend {
  switch (cfg.backend) {
    case "gpt":
      return new GptBackend(cfg);
    case "grubenv":
      return new GrubenvBackend(cfg);
    case "bls":
      return new BlsBackend(cfg);
    case "uboot":
      return new UbootBackend(cfg);
  }
}
