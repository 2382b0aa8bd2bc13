// Tier 2 end to end: a real GRUB reading grubenv with the counting snippet from packaging/grub/, under QEMU.
// Needs root and qemu-system-x86 (scripts/setup.sh installs it); CI runs it.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, runTierScript } from "../helpers/tools.js";

const OUT = path.join(REPO, ".cache/vm-grub");

describe("real GRUB + grubenv (greenboot scheme) under QEMU", () => {
  it("action: retry: two red boots of B (GRUB counts them down), the last marked bad, then GRUB boots slot A", {
    timeout: 1_500_000,
  }, async () => {
    if (process.getuid?.() !== 0) throw new Error("this test needs root");
    const { code, output } = await runTierScript("vm-grub.sh", OUT);
    console.log(
      output
        .split("\n")
        .filter((l) => /^\[|QEMU-START|GRUB-BOOT|BWTEST|verdict|marked|rebooting|failed trial/.test(l))
        .join("\n"),
    );
    expect(code).toBe(0);
    const serial = readFileSync(path.join(OUT, "serial.log"), "latin1");
    const seq = [
      ...serial.matchAll(
        /QEMU-START \d+|GRUB-BOOT default=(\w+) boot_counter=(-?\d*)|bootwarden\[\d+\]: verdict for trial boot of (\w+): (\w+)|BWTEST: booted slot=(\w)|BWTEST: SCENARIO-DONE/g,
      ),
    ].map((m) =>
      m[1]
        ? `grub:${m[1]}:${m[2]}`
        : m[3]
          ? `verdict:${m[3]}:${m[4]}`
          : m[5]
            ? `linux:${m[5]}`
            : m[0].startsWith("QEMU")
              ? "qemu"
              : "done",
    );
    // B armed with 2 tries: GRUB spends one (1 left); bootwarden's retry reboots into B unmarked, GRUB spends the
    // second (0 left); that last try's unhealthy verdict is a rollback, and GRUB falls back to A (-1).
    expect(seq.filter((s) => !s.startsWith("linux:B"))).toEqual([
      "qemu",
      "grub:B:1",
      "verdict:default:unhealthy",
      "qemu",
      "grub:B:0",
      "verdict:default:unhealthy",
      "qemu",
      "grub:A:-1",
      "linux:A",
      "done",
    ]);
    const tries = serial.split("QEMU-START").slice(1);
    expect(tries[0]).toMatch(
      /bootwarden\[\d+\]: rebooting into the trial of default again \(try 1 of 2\), 1 try left: unit:app\.service failed/,
    );
    expect(tries[0]).not.toMatch(/marked the boot bad|rebooting to fall back/);
    expect(tries[1]).toMatch(
      /bootwarden\[\d+\]: slot default: marked the boot bad: already so, nothing to do/,
    );
    expect(tries[1]).toMatch(/bootwarden\[\d+\]: rebooting to fall back from default/);
    expect(tries[1]).not.toMatch(/rebooting into the trial/);
    expect(serial).toMatch(/BWLOG: booted fallback after a failed trial boot of default/);
    const env = readFileSync(path.join(OUT, "grubenv.final"), "latin1");
    expect(env.length).toBe(1024);
    expect(env).toMatch(/^boot_counter=-1$/m);
    expect(env).toMatch(/^next_slot=B$/m);
  });
});
