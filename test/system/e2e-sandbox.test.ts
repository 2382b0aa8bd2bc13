// The units' sandbox follows the config: boot state outside /boot, /efi, /boot/efi (a GPT image under /var/lib, a
// Kairos-style grubenv under /oem) is refused with one line naming the drop-in, and works after check-config --apply.
import { spawnSync } from "node:child_process";
import { mkdirSync, renameSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type JournalEntry, Machine, machineConfig, run } from "../../scripts/lib/harness.mjs";
import { MessageId } from "../../src/base/message-ids.js";
import { byId, machinesOfFile } from "../helpers/machines.js";
import { NO_BUS_WARNING } from "../helpers/tools.js";

const machines = machinesOfFile();

/** A machine whose GPT image lives at /var/lib/images/disk.img instead of /boot. */
function imageUnderVarLib(name: string): Machine {
  const m = new Machine(`bw-sb-${name}`).create({
    config: machineConfig().replace("disk: /boot/disk.img", "disk: /var/lib/images/disk.img"),
  });
  machines.push(m);
  mkdirSync(path.join(m.dir, "var/lib/images"), { recursive: true });
  const moved = path.join(m.dir, "var/lib/images/disk.img");
  renameSync(m.disk, moved);
  m.disk = moved;
  return m;
}
const checkConfig = (m: Machine, ...args: string[]) =>
  spawnSync("chroot", [m.dir, "bootwarden", "check-config", ...args], {
    encoding: "utf8",
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" }, // the machine's environment, not this host's
  });

describe("boot state outside the default writable paths", { timeout: 300_000 }, () => {
  it("without the drop-in: check-config and the daemon refuse with exit 78 and one line naming the drop-in", async () => {
    const m = imageUnderVarLib("refused");
    const c = checkConfig(m);
    expect(c.status).toBe(78);
    expect(c.stderr.trim().split("\n")).toHaveLength(1);
    expect(c.stderr).toMatch(
      /bootState: \/var\/lib\/images\/disk\.img is outside what the units may write .*add ReadWritePaths=\/var\/lib\/images\/disk\.img to \/etc\/systemd\/system\/bootwarden\.service\.d\/50-boot-state\.conf and \/etc\/systemd\/system\/bootwarden-backstop\.service\.d\/50-boot-state\.conf/,
    );
    m.arm("USR-B");
    await m.boot({ timeoutMs: 25_000 });
    const j: JournalEntry[] = m.journal(0);
    const refusal = byId(j, MessageId.configInvalid).map((e) => e.MESSAGE);
    expect(refusal[0]).toMatch(
      /bootState: \/var\/lib\/images\/disk\.img is not writable here \(EROFS\): add ReadWritePaths=/,
    );
    expect(
      j.some((e) => /bootwarden\.service: Main process exited, code=exited, status=78/.test(e.MESSAGE)),
    ).toBe(true);
    expect(m.slots()[1]).toMatchObject({ successful: false });
  });

  it("a GPT image under /var/lib: check-config --apply writes the drop-ins, and the trial is blessed", async () => {
    const m = imageUnderVarLib("varlib");
    const c = checkConfig(m, "--apply");
    expect(c.stderr).toBe(NO_BUS_WARNING); // a chroot: no systemd to ask about the units
    expect(c.stdout).toMatch(/wrote \/etc\/systemd\/system\/bootwarden\.service\.d\/50-boot-state\.conf/);
    expect(checkConfig(m).status).toBe(0);
    m.arm("USR-B");
    expect(await m.boot()).toMatchObject({ slot: "USR-B", exit: 0 });
    expect(m.slots()[1]).toMatchObject({ priority: 2, tries: 0, successful: true });
  });

  it("a greenboot grubenv under /oem (where Kairos keeps its own): applied, the trial is blessed", async () => {
    const m = new Machine("bw-sb-oem").create({
      config: machineConfig().replace(
        "  backend: gpt\n  disk: /boot/disk.img\n  cmdline: /etc/bootwarden/test-cmdline\n",
        "  backend: grubenv\n  path: /oem/grubenv\n  scheme: greenboot\n",
      ),
    });
    machines.push(m);
    const env = path.join(m.dir, "oem/grubenv");
    mkdirSync(path.dirname(env), { recursive: true });
    run("grub-editenv", [env, "create"]);
    run("grub-editenv", [env, "set", "boot_counter=1", "boot_success=0"]); // GRUB counted the trial boot
    expect(checkConfig(m, "--apply").stdout).toMatch(/ReadWritePaths=\/oem/);
    expect(await m.boot()).toMatchObject({ exit: 0 });
    const vars = run("grub-editenv", [env, "list"]);
    expect(vars).toMatch(/^boot_success=1$/m);
    expect(vars).not.toMatch(/boot_counter/);
    expect(byId(m.journal(0), MessageId.markedGood)).toHaveLength(1);
  });
});
