// Tier 3 end to end: OVMF + systemd-boot 252 boot counting under QEMU, bootwarden's bls backend in the guest.
// Needs root, qemu-system-x86, ovmf and systemd-boot's EFI binaries (scripts/setup.sh installs them); CI runs it.
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { statusSchema } from "../../src/config/status-schema.js";
import { REPO, runTierScript } from "../helpers/tools.js";

const OUT = path.join(REPO, ".cache/vm-bls");
let output = "";
let code = -1;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error("this test needs root");
  ({ code, output } = await runTierScript("vm-bls.sh", OUT));
  console.log(
    output
      .split("\n")
      .filter((l) => /^\[|^===|QEMU-START|BWTEST|BWNEXT/.test(l))
      .join("\n"),
  );
}, 1_500_000);

/** Per boot: the slot Linux ran, the entries then, the verdict, as the guest's agent and bootwarden logged them. */
function boots(plan: string) {
  const serial = readFileSync(path.join(OUT, `serial-${plan}.log`), "latin1");
  return serial
    .split("QEMU-START")
    .slice(1)
    .map((b) => ({
      slot: /BWTEST: booted slot=(\w)/.exec(b)?.[1],
      entries: /BWTEST: booted slot=\w entries=(\S*)/.exec(b)?.[1],
      after: /BWTEST: slot=\w wait=\d+ entries=(\S*)/.exec(b)?.[1],
      // bootwarden's journal as the agent dumped it, and its warnings as journald forwarded them to the console
      // (an unhealthy boot reboots before the agent gets to dump anything).
      log: [...b.matchAll(/BWLOG: (.*)|bootwarden\[\d+\]: (.*)/g)].map((m) => (m[1] ?? m[2])!),
      // status --json after the verdict, as the guest printed it: valid against its schema (version 1) at every boot.
      status: ((raw) => (raw === undefined ? null : statusSchema.parse(JSON.parse(raw))))(
        /BWSTATUS: (.*)/.exec(b)?.[1],
      ),
      // `status`'s next boot, printed by a unit's ExecStop at this boot's shutdown.
      next: /BWNEXT: (\S*)/.exec(b)?.[1],
      blessBoot: /bless-boot=(.*)/.exec(b)?.[1] ?? "",
      blessLog: [...b.matchAll(/BWBLESS: (.*)/g)].map((m) => m[1]!).join("\n"),
    }));
}
const esp = (plan: string) => readFileSync(path.join(OUT, `esp-${plan}.final`), "utf8").trim();

describe("systemd-boot boot counting under QEMU", () => {
  it("the VM run finished every plan", () => {
    expect(code).toBe(0);
  });

  it("healthy: bootwarden blesses the counted Type #1 entry, and nothing else renames it", () => {
    const [b1] = boots("healthy");
    expect(b1).toMatchObject({ slot: "B", entries: "a.conf,b+1-1.conf", after: "a.conf,b.conf" });
    expect(b1!.status).toMatchObject({ bootedSlot: "b.conf" });
    expect(b1!.log.some((l) => /verdict for trial boot of b\.conf: healthy/.test(l))).toBe(true);
    expect(b1!.log.some((l) => /marked b\.conf good: b\+1-1\.conf -> b\.conf/.test(l))).toBe(true);
    // systemd-bless-boot never renamed anything: it did not run (it stands aside through its drop-in while the
    // daemon owns the entries; whether it was started at all in this window is logged, not asserted).
    expect(b1!.blessBoot).toMatch(/ActiveState=inactive/);
    expect(b1!.blessLog).not.toMatch(/Marked boot as 'good'|Renamed/i);
    expect(esp("healthy")).toBe("a.conf,b.conf");
  });

  it("bad: the failing Type #1 trial is marked bad, the machine reboots, systemd-boot starts A, which reports it", () => {
    const [b1, b2] = boots("bad");
    expect(b1).toMatchObject({ slot: "B", entries: "a.conf,b+1-1.conf" });
    expect(b1!.log.some((l) => /marked b\.conf bad: b\+1-1\.conf -> b\+0-1\.conf/.test(l))).toBe(true);
    expect(b1!.log.some((l) => /rebooting to fall back from b\.conf to a\.conf/.test(l))).toBe(true);
    expect(b2).toMatchObject({ slot: "A", entries: "a.conf,b+0-1.conf" });
    expect(b2!.status).toMatchObject({ bootedSlot: "a.conf", trialBoot: false });
    expect(b2!.log.some((l) => /booted a\.conf after a failed trial boot of b\.conf/.test(l))).toBe(true);
    expect(esp("bad")).toBe("a.conf,b+0-1.conf");
  });

  it("uki: the same for a unified kernel image in EFI/Linux", () => {
    const [b1, b2] = boots("uki");
    expect(b1).toMatchObject({ slot: "B", entries: "a.conf,b+1-1.efi" });
    expect(b1!.log.some((l) => /marked b\.efi bad: b\+1-1\.efi -> b\+0-1\.efi/.test(l))).toBe(true);
    expect(b2).toMatchObject({ slot: "A" });
    expect(b2!.log.some((l) => /after a failed trial boot of b\.efi/.test(l))).toBe(true);
    expect(esp("uki")).toBe("a.conf,b+0-1.efi");
  });

  it("kairos: Kairos' Trusted Boot names (active+3.conf -> EFI/kairos/active.efi): a failing trial falls back to passive", () => {
    const [b1, b2] = boots("kairos");
    expect(b1).toMatchObject({ slot: "B", entries: "active+2-1.conf,passive.conf" });
    expect(
      b1!.log.some((l) => /marked active\.conf bad: active\+2-1\.conf -> active\+0-1\.conf/.test(l)),
    ).toBe(true);
    expect(b2).toMatchObject({ slot: "A", entries: "active+0-1.conf,passive.conf" });
    expect(
      b2!.log.some((l) => /booted passive\.conf after a failed trial boot of active\.conf/.test(l)),
    ).toBe(true);
    expect(esp("kairos")).toBe("active+0-1.conf,passive.conf");
  });

  it("retry (+2): the first red try reboots into B unmarked, systemd-boot spends the second, which rolls back to A", () => {
    const [b1, b2, b3] = boots("retry");
    expect(b1).toMatchObject({ slot: "B", entries: "a.conf,b+1-1.conf" });
    expect(b1!.log).toContainEqual(
      expect.stringMatching(
        /^rebooting into the trial of b\.conf again \(try 1 of 2\), 1 try left: unit:app\.service failed/,
      ),
    );
    expect(b1!.log.some((l) => /marked b\.conf bad|rebooting to fall back/.test(l))).toBe(false);
    // Only systemd-boot renamed it between the two tries: b+1-1 -> b+0-2.
    expect(b2).toMatchObject({ slot: "B", entries: "a.conf,b+0-2.conf" });
    expect(b2!.log).toContainEqual("slot b.conf: b.conf has no tries left: already bad, nothing to do");
    expect(b2!.log.some((l) => /rebooting to fall back from b\.conf to a\.conf/.test(l))).toBe(true);
    expect(b3).toMatchObject({ slot: "A", entries: "a.conf,b+0-2.conf" });
    expect(b3!.log.some((l) => /booted a\.conf after a failed trial boot of b\.conf/.test(l))).toBe(true);
    expect(esp("retry")).toBe("a.conf,b+0-2.conf");
  });

  it("status's next boot, printed at every shutdown, is the entry systemd-boot 252 starts at the next boot", () => {
    // healthy: b blessed. bad, uki: b+0-1 has no tries left, last in the menu. kairos: loader.conf's exact
    // `default active+3.conf` names nothing once the loader renamed it, so the sort order picks passive. retry: b+1-1
    // still has a try, then b+0-2 has none.
    const expected: Record<string, string[]> = {
      healthy: ["b.conf"],
      bad: ["a.conf", "a.conf"],
      uki: ["a.conf", "a.conf"],
      kairos: ["passive.conf", "passive.conf"],
      retry: ["b.conf", "a.conf", "a.conf"],
    };
    const ids: Record<string, Record<string, string>> = {
      kairos: { A: "passive.conf", B: "active.conf" },
      uki: { A: "a.conf", B: "b.efi" },
    };
    const id = (plan: string, slot = "") => (ids[plan] ?? { A: "a.conf", B: "b.conf" })[slot];
    for (const [plan, nexts] of Object.entries(expected)) {
      const all = boots(plan);
      expect([plan, all.map((b) => b.next)]).toEqual([plan, nexts]);
      for (let i = 1; i < all.length; i++)
        expect([plan, i, id(plan, all[i]!.slot)]).toEqual([plan, i, all[i - 1]!.next]);
    }
  });
});
