import { realpath } from "node:fs/promises";
import path from "node:path";
import { BootwardenError, errnoText } from "../../base/errors.js";
import { sysPath } from "../../base/paths.js";
import { nTries } from "../../base/plural.js";
import { readRegular } from "../../base/read-regular.js";
import type { GrubenvStateConfig } from "../../config/schema.js";
import { prepareLock, withLock } from "../lock.js";
import type { BootState, BootStateBackend, MarkResult } from "../types.js";
import { envEdit, envEntries, envGet } from "./codec.js";
import { readEnvFile, writeEnvFile } from "./file.js";
import { type EnvChanges, type GrubenvScheme, schemes } from "./schemes.js";

export class GrubenvBackend implements BootStateBackend {
  readonly name = "grubenv" as const;
  private readonly scheme: GrubenvScheme;

  constructor(private readonly cfg: GrubenvStateConfig) {
    this.scheme = schemes[cfg.scheme];
  }

  private get file(): string {
    return sysPath(this.cfg.path);
  }

  private async cmdline(): Promise<string> {
    if (this.scheme.name !== "kairos") return "";
    try {
      return (await readRegular(sysPath(this.cfg.cmdline), 1 << 20)).toString("utf8");
    } catch (err) {
      throw new BootwardenError("grubenv", "not-found", `cannot read ${this.cfg.cmdline}: ${errnoText(err)}`);
    }
  }

  async read(): Promise<BootState> {
    const env = envEntries(await readEnvFile(this.file, this.cfg.path));
    const view = this.scheme.assess(env, await this.cmdline());
    return { backend: "grubenv", source: this.cfg.path, ...view, bootedId: view.bootedSlot };
  }

  /** The scheme has one entry that trials run on ("default" for greenboot, "active" for Kairos). */
  async identify(): Promise<string> {
    return this.scheme.name === "kairos" ? "active" : "default";
  }

  async prepareWrite(): Promise<void> {
    prepareLock();
  }

  private async edit(
    what: string,
    changesOf: (env: ReadonlyMap<string, string>) => EnvChanges,
  ): Promise<MarkResult> {
    // The file is replaced by rename, so the lock is on its (real) directory, which every writer shares.
    const real = await realpath(this.file).catch(() => this.file);
    return withLock("grubenv", path.dirname(real), this.cfg.path, () => this.editLocked(what, changesOf));
  }

  private async editLocked(
    what: string,
    changesOf: (env: ReadonlyMap<string, string>) => EnvChanges,
  ): Promise<MarkResult> {
    const block = await readEnvFile(this.file, this.cfg.path);
    const changes = changesOf(envEntries(block));
    const pending = Object.entries(changes).filter(([k, v]) => envGet(block, k) !== v);
    const dupes = Object.keys(changes).some((k) => block.lines.filter((l) => l.name === k).length > 1);
    if (pending.length === 0 && !dupes)
      return { changed: false, message: `${what}: already so, nothing to do` };
    await writeEnvFile(this.file, this.cfg.path, envEdit(block, changes));
    return { changed: true, message: `${what} in ${this.cfg.path} (${this.scheme.name})` };
  }

  markGood(): Promise<MarkResult> {
    return this.edit("marked the boot good", (env) => this.scheme.good(env));
  }

  markBad(): Promise<MarkResult> {
    return this.edit("marked the boot bad", (env) => this.scheme.bad(env));
  }

  arm(_slot: string | undefined, tries: number | undefined): Promise<MarkResult> {
    const n = tries ?? this.cfg.tries;
    if (!Number.isInteger(n) || n < 1 || n > 9)
      throw new BootwardenError("grubenv", "usage", `--tries ${n}: must be 1..9`);
    return this.edit(`armed a trial boot with ${nTries(n)}`, () => this.scheme.arm(n));
  }
}
