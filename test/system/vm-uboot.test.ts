// Tier 2 end to end: a real U-Boot (Debian's qemu-x86 u-boot.rom) counting RAUC-style in its boot script, under
// QEMU; bootwarden in the guest reads and writes the env through /etc/fw_env.config, and the env it leaves is read
// back on the host with libubootenv's fw_printenv. Needs root, qemu-system-x86, u-boot-qemu (scripts/setup.sh).
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, runTierScript, sh } from "../helpers/tools.js";

const OUT = path.join(REPO, ".cache/vm-uboot");

describe("real U-Boot + RAUC's counting under QEMU (backend uboot, scheme rauc)", () => {
  it("a healthy trial of B is blessed and U-Boot boots B again; a failing one is marked bad and U-Boot boots A", {
    timeout: 1_200_000,
  }, async () => {
    if (process.getuid?.() !== 0) throw new Error("this test needs root");
    const { code, output } = await runTierScript("vm-uboot.sh", OUT);
    console.log(
      output
        .split("\n")
        .filter((l) => /^\[|QEMU-START|UBOOT|BWTEST|verdict|marked|rebooting|failed trial/.test(l))
        .join("\n"),
    );
    expect(code).toBe(0);
    const serial = readFileSync(path.join(OUT, "serial.log"), "latin1");
    const seq = [
      ...serial.matchAll(
        /QEMU-START \d+|UBOOT-BOOT slot=(\w) order=([\w ]+?) A_LEFT=(\d) B_LEFT=(\d)|bootwarden\[\d+\]: verdict for trial boot of (\w+): (\w+)|BWLOG: verdict for trial boot of (\w+): (\w+)|BWTEST: SCENARIO-DONE/g,
      ),
    ].map((m) =>
      m[1]
        ? `uboot:${m[1]}:${m[2]}:${m[3]}${m[4]}`
        : m[5]
          ? `verdict:${m[5]}:${m[6]}`
          : m[7]
            ? `verdict:${m[7]}:${m[8]}`
            : m[0].startsWith("QEMU")
              ? "qemu"
              : "done",
    );
    // Armed for one try, B's boot takes it (0 left); only bootwarden's bless brings B back to 3, so that U-Boot boots
    // B again (2 left). The second trial fails: out of BOOT_ORDER, so U-Boot boots A.
    expect(seq).toEqual([
      "qemu",
      "uboot:B:B A:30",
      "verdict:B:healthy",
      "qemu",
      "uboot:B:B A:32",
      "verdict:B:unhealthy",
      "qemu",
      "uboot:A:A:20",
      "verdict:A:healthy",
      "done",
    ]);
    const boots = serial.split("QEMU-START").slice(1);
    expect(boots[0]).toMatch(/BWLOG: slot B: marked B good in \/dev\/vda@0x2100000 \(rauc\)/);
    expect(boots[1]).toMatch(/bootwarden\[\d+\]: slot B: marked B bad in \/dev\/vda@0x2100000 \(rauc\)/);
    expect(boots[1]).toMatch(/bootwarden\[\d+\]: rebooting to fall back from B/);
    expect(boots[2]).toMatch(
      /BWLOG: booted A after a failed trial boot of B: unhealthy \(unit:app\.service failed: failed \(exit-code\)\)/,
    );
    expect(boots[2]).toMatch(/BWLOG: slot A: marked A good in \/dev\/vda@0x2100000 \(rauc\)/);
    // The env bootwarden left, read by libubootenv on the host: A blessed back to 3, B out of BOOT_ORDER with 0.
    const cfg = path.join(OUT, "fw_env.final.config");
    writeFileSync(cfg, `${path.join(OUT, "env.final")} 0x0 0x4000\n`);
    expect(sh("fw_printenv", ["-c", cfg])).toBe("BOOT_A_LEFT=3\nBOOT_B_LEFT=0\nBOOT_ORDER=A\n");
  });
});
