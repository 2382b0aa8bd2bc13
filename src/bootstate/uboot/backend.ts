import { BootwardenError, errnoText } from "../../base/errors.js";
import { rootPrefix, sysPath } from "../../base/paths.js";
import { nTries } from "../../base/plural.js";
import { readRegular } from "../../base/read-regular.js";
import type { UbootStateConfig } from "../../config/schema.js";
import { prepareLock, readSettled, withLock } from "../lock.js";
import type { BootState, BootStateBackend, MarkResult } from "../types.js";
import {
  type EnvLocation,
  type EnvState,
  readEnv,
  readFwEnvConfig,
  withLibubootenvLock,
  writeEnv,
} from "./env-file.js";
import { type Running, rootPartition } from "./running.js";
import { type EnvChanges, type SchemeOptions, type UbootScheme, ubootSchemes } from "./schemes.js";

/**
 * The U-Boot environment, read and written as libubootenv does (fw_env.config, single or redundant copies), under
 * bootwarden's lock and libubootenv's. Every edit reads the env again under the locks and writes it whole, once.
 */
export class UbootBackend implements BootStateBackend {
  readonly name = "uboot" as const;
  private readonly scheme: UbootScheme;
  private readonly opts: SchemeOptions;

  constructor(private readonly cfg: UbootStateConfig) {
    this.scheme = ubootSchemes[cfg.scheme];
    this.opts = {
      attempts: cfg.attempts,
      parts: cfg.parts ?? ["2", "3"],
      ...(cfg.slotVariable ? { slotVariable: cfg.slotVariable } : {}),
      ...(cfg.rootParts ? { rootParts: cfg.rootParts } : {}),
    };
  }

  private async locations(): Promise<EnvLocation[]> {
    return this.cfg.env ?? readFwEnvConfig(this.cfg.envConfig);
  }

  private source(locs: readonly EnvLocation[]): string {
    return locs.map((l) => `${l.device}@0x${l.offset.toString(16)}`).join(" + ");
  }

  private async running(): Promise<Running> {
    let cmdline: string;
    try {
      cmdline = (await readRegular(sysPath(this.cfg.cmdline), 1 << 20)).toString("utf8");
    } catch (err) {
      throw new BootwardenError("uboot", "not-found", `cannot read ${this.cfg.cmdline}: ${errnoText(err)}`);
    }
    const rootPart = this.scheme.name === "rauc" ? undefined : await rootPartition(cmdline, rootPrefix());
    return { cmdline, ...(rootPart ? { rootPart } : {}) };
  }

  /** A single copy is rewritten in place (by fw_setenv or by us): a read overlapping that sees a bad CRC. */
  private readSettled(locs: readonly EnvLocation[], shown: string): Promise<EnvState> {
    return readSettled(
      () => readEnv(locs, shown),
      (read) => withLock("uboot", sysPath(locs[0]!.device), shown, () => withLibubootenvLock(read)),
    );
  }

  async read(): Promise<BootState> {
    const locs = await this.locations();
    const env = await this.readSettled(locs, this.source(locs));
    const view = this.scheme.assess(env.current.vars, await this.running(), this.opts);
    return { backend: "uboot", source: this.source(locs), ...view };
  }

  async identify(slot: string | undefined): Promise<string> {
    return slot ?? (await this.read()).bootedId;
  }

  async prepareWrite(): Promise<void> {
    prepareLock();
  }

  private async edit(
    what: (booted: string) => string,
    changesOf: (env: ReadonlyMap<string, string>, booted: string) => EnvChanges,
    needsBooted = true,
  ): Promise<MarkResult> {
    const locs = await this.locations();
    const shown = this.source(locs);
    // Arming needs no booted slot (an installer may arm an image), so no kernel command line either.
    const running = needsBooted ? await this.running() : { cmdline: "" };
    return withLock("uboot", sysPath(locs[0]!.device), shown, () =>
      withLibubootenvLock(async (note) => {
        const env = await readEnv(locs, shown);
        const now = needsBooted ? this.scheme.assess(env.current.vars, running, this.opts).bootedId : "";
        if (!now && needsBooted)
          throw new BootwardenError("uboot", "not-found", `${shown}: which slot is booted is not known`);
        const changes = changesOf(env.current.vars, now);
        const vars = new Map(env.current.vars);
        for (const [k, v] of Object.entries(changes)) {
          if (v === undefined) vars.delete(k);
          else vars.set(k, v);
        }
        const same =
          vars.size === env.current.vars.size && [...vars].every(([k, v]) => env.current.vars.get(k) === v);
        if (same) return { changed: false, message: `${what(now)}: already so, nothing to do${note}` };
        await writeEnv(env, vars);
        return { changed: true, message: `${what(now)} in ${shown} (${this.scheme.name})${note}` };
      }),
    );
  }

  markGood(): Promise<MarkResult> {
    return this.edit(
      (b) => `marked ${b} good`,
      (env, b) => this.scheme.good(env, b, this.opts),
    );
  }

  async markBad(): Promise<MarkResult> {
    const s = await this.read();
    const others = s.slots.filter((x) => x.name !== s.bootedId && x.state !== "bad");
    if (others.length === 0)
      throw new BootwardenError(
        "uboot",
        "refused",
        `refusing to mark ${s.bootedSlot} bad: no other slot to boot`,
      );
    return this.edit(
      (b) => `marked ${b} bad`,
      (env, b) => this.scheme.bad(env, b, this.opts),
    );
  }

  async arm(slot: string | undefined, tries: number | undefined): Promise<MarkResult> {
    const n = tries ?? this.cfg.tries;
    // RAUC writes LEFT in hex and U-Boot's own bootmeth_rauc reads it as decimal: the same only for 0..9.
    if (!Number.isInteger(n) || n < 1 || n > 9)
      throw new BootwardenError("uboot", "usage", `--tries ${n}: must be 1..9`);
    if (!slot)
      throw new BootwardenError(
        "cli",
        "usage",
        "uboot: arm needs --slot <slot> (a RAUC slot name, a Mender part)",
      );
    const locs = await this.locations();
    const known = this.scheme.slots(
      (await this.readSettled(locs, this.source(locs))).current.vars,
      this.opts,
    );
    if (!known.includes(slot))
      throw new BootwardenError("uboot", "not-found", `no slot ${slot} among ${known.join(", ") || "none"}`);
    return this.edit(
      () => `armed ${slot} for a trial boot with ${nTries(n)}`,
      (env) => this.scheme.arm(env, slot, n, this.opts),
      false,
    );
  }
}
