import { describe, expect, it } from "vitest";
import { mender, rauc, swupdate } from "../../src/bootstate/uboot/schemes.js";

const env = (o: Record<string, string>) => new Map(Object.entries(o));
const o = { attempts: 3, parts: ["2", "3"] as const };

describe("RAUC's variables", () => {
  it("LEFT is hex, as RAUC writes it: a good slot has the attempts, fewer is a trial, 0 or out of BOOT_ORDER is bad", () => {
    const e = env({ BOOT_ORDER: "B A", BOOT_A_LEFT: "3", BOOT_B_LEFT: "2" });
    expect(rauc.assess(e, { cmdline: "rauc.slot=B" }, o)).toMatchObject({
      bootedSlot: "B",
      trialBoot: true,
      triesLeft: 2,
    });
    expect(rauc.assess(e, { cmdline: "rauc.slot=A" }, o)).toMatchObject({ trialBoot: false, state: "good" });
    expect(
      rauc.assess(
        env({ BOOT_ORDER: "A", BOOT_A_LEFT: "a" }),
        { cmdline: "rauc.slot=A" },
        { ...o, attempts: 10 },
      ),
    ).toMatchObject({
      state: "good",
    });
    // The last try: U-Boot took it before booting B, so B at 0 is a trial still, not a failed slot.
    expect(
      rauc.assess(
        env({ BOOT_ORDER: "B A", BOOT_A_LEFT: "3", BOOT_B_LEFT: "0" }),
        { cmdline: "rauc.slot=B" },
        o,
      ),
    ).toMatchObject({ trialBoot: true, state: "indeterminate", triesLeft: 0 });
    // Marked bad during this boot (out of BOOT_ORDER): no longer a trial.
    expect(
      rauc.assess(
        env({ BOOT_ORDER: "A", BOOT_A_LEFT: "3", BOOT_B_LEFT: "0" }),
        { cmdline: "rauc.slot=B" },
        o,
      ),
    ).toMatchObject({ trialBoot: false, state: "bad" });
    // U-Boot skipped B (no tries left) and booted A: the trial of B failed.
    expect(
      rauc.assess(
        env({ BOOT_ORDER: "B A", BOOT_A_LEFT: "3", BOOT_B_LEFT: "0" }),
        { cmdline: "rauc.slot=A" },
        o,
      ).rolledBackFrom,
    ).toEqual({
      slot: "B",
      reason: "BOOT_B_LEFT=0: U-Boot ran out of tries",
    });
  });
  it("good, bad and arm edit only their variables; a name ending like another's is left alone", () => {
    const e = env({ BOOT_ORDER: "B A", BOOT_A_LEFT: "3", BOOT_B_LEFT: "1", XBOOT_B_LEFT: "7" });
    expect(rauc.good(e, "B", o)).toEqual({ BOOT_B_LEFT: "3" });
    expect(rauc.bad(e, "B", o)).toEqual({ BOOT_ORDER: "A", BOOT_B_LEFT: "0" });
    expect(rauc.arm(env({ BOOT_ORDER: "A B" }), "B", 3, o)).toEqual({ BOOT_ORDER: "B A", BOOT_B_LEFT: "3" });
    expect(rauc.slots(e, o)).toEqual(["B", "A"]);
  });
});

describe("Mender's variables", () => {
  it("a trial is upgrade_available=1; bad points back at the other part (decimal and hex), good commits", () => {
    const e = env({ mender_boot_part: "3", mender_boot_part_hex: "3", upgrade_available: "1" });
    expect(mender.assess(e, { cmdline: "" }, o)).toMatchObject({ bootedSlot: "3", trialBoot: true });
    expect(mender.bad(e, "3", o)).toEqual({
      upgrade_available: "0",
      mender_boot_part: "2",
      mender_boot_part_hex: "2",
    });
    const e12 = env({ mender_boot_part: "12", upgrade_available: "1" });
    expect(mender.bad(e12, "12", { ...o, parts: ["12", "13"] })).toMatchObject({ mender_boot_part_hex: "D" });
    expect(mender.good(e, "3", o)).toEqual({ upgrade_available: "0" });
  });

  // The booted part is root='s: a mark bad rewrites mender_boot_part, and arm does before the reboot.
  const on = (rootPart: string) => ({ cmdline: `root=/dev/mmcblk0p${rootPart}`, rootPart });
  const apply = (e: Map<string, string>, c: Record<string, string | undefined>) =>
    new Map<string, string>([
      ...e,
      ...Object.entries(c).filter((kv): kv is [string, string] => kv[1] !== undefined),
    ]);
  it("marked bad in this boot: still the booted part, now bad, and a second mark bad changes nothing", () => {
    const trial = env({ mender_boot_part: "3", upgrade_available: "1", bootcount: "1", bootlimit: "1" });
    expect(mender.assess(trial, on("3"), o)).toMatchObject({
      bootedSlot: "3",
      trialBoot: true,
      nextBoot: "2",
    });
    const marked = apply(trial, mender.bad(trial, "3", o));
    expect(mender.assess(marked, on("3"), o)).toMatchObject({
      bootedSlot: "3",
      trialBoot: false,
      state: "bad",
      nextBoot: "2",
    });
    expect(apply(marked, mender.bad(marked, "3", o))).toEqual(marked);
    // Without root=, the variable is all there is: the second mark would point back at 3, and status says so.
    const blind = mender.assess(marked, { cmdline: "" }, o);
    expect(blind).toMatchObject({ bootedSlot: "2", state: "good" });
    expect(blind.problems?.[0]).toMatch(
      /^root= on the kernel command line is none of the partitions 2, 3: .* mender_boot_part, which a mark bad rewrites$/,
    );
  });
  it("armed and not yet rebooted: the running part is no trial, the armed one boots next, and stays a trial", () => {
    const staged = env({ mender_boot_part: "3", upgrade_available: "1", bootcount: "0", bootlimit: "1" });
    expect(mender.assess(staged, on("2"), o)).toMatchObject({
      bootedSlot: "2",
      trialBoot: false,
      state: "good",
      nextBoot: "3",
      slots: [
        { name: "2", booted: true, state: "good" },
        { name: "3", booted: false, state: "indeterminate" },
      ],
    });
    expect(mender.bad(staged, "2", o)).toEqual({});
  });
});

describe("SWUpdate's variables", () => {
  const so = { ...o, parts: ["a", "b"] as const, slotVariable: "rootpart" };
  it("ustate 1 or 2 is a trial, with bootlimit - bootcount tries left; 3 is a failed update of the other slot", () => {
    const trial = env({ rootpart: "b", ustate: "2", bootcount: "1", bootlimit: "3" });
    expect(swupdate.assess(trial, { cmdline: "" }, so)).toMatchObject({
      bootedSlot: "b",
      trialBoot: true,
      triesLeft: 2,
    });
    expect(swupdate.assess(env({ rootpart: "a", ustate: "0" }), { cmdline: "" }, so)).toMatchObject({
      trialBoot: false,
      state: "good",
      rolledBackFrom: null,
    });
    expect(swupdate.assess(env({ rootpart: "a", ustate: "3" }), { cmdline: "" }, so).rolledBackFrom).toEqual({
      slot: "b",
      reason: "ustate=3: the update failed",
    });
  });
  it("good, bad and arm write only SWUpdate's variables and the named slot variable", () => {
    const e = env({ rootpart: "b", ustate: "1" });
    expect(swupdate.good(e, "b", so)).toEqual({ ustate: "0", upgrade_available: "0", bootcount: "0" });
    expect(swupdate.bad(e, "b", so)).toEqual({ rootpart: "a", ustate: "3", upgrade_available: "0" });
    // Marked bad in this boot, with numbered parts placed by root=: bad, and a second mark changes nothing.
    const n = { ...so, parts: ["2", "3"] as const };
    const trial = env({ rootpart: "3", ustate: "1", bootcount: "1", bootlimit: "3" });
    const marked = new Map([
      ...trial,
      ...(Object.entries(swupdate.bad(trial, "3", n)) as [string, string][]),
    ]);
    const on3 = { cmdline: "root=/dev/sda3", rootPart: "3" };
    expect(swupdate.assess(marked, on3, n)).toMatchObject({
      bootedSlot: "3",
      state: "bad",
      rolledBackFrom: null,
    });
    expect(swupdate.bad(marked, "3", n)).toEqual({ rootpart: "2", ustate: "3", upgrade_available: "0" });
    expect(swupdate.assess(marked, { cmdline: "root=/dev/sda2", rootPart: "2" }, n).rolledBackFrom).toEqual({
      slot: "3",
      reason: "ustate=3: the update failed",
    });
    expect(swupdate.arm(e, "b", 3, so)).toEqual({
      rootpart: "b",
      ustate: "1",
      upgrade_available: "1",
      bootcount: "0",
    });
  });

  it("named parts with rootParts: root='s partition number names the slot; marked bad it stays the booted one", () => {
    const named = { ...so, rootParts: ["2", "3"] as const };
    const trial = env({ rootpart: "b", ustate: "1", bootcount: "1", bootlimit: "3" });
    const onB = { cmdline: "root=/dev/mmcblk0p3", rootPart: "3" };
    expect(swupdate.assess(trial, onB, named)).toMatchObject({ bootedSlot: "b", trialBoot: true });
    const marked = new Map([
      ...trial,
      ...(Object.entries(swupdate.bad(trial, "b", named)) as [string, string][]),
    ]);
    expect(swupdate.assess(marked, onB, named)).toMatchObject({
      bootedSlot: "b",
      state: "bad",
      nextBoot: "a",
    });
    expect(swupdate.assess(marked, onB, named).problems).toBeUndefined();
    // Without rootParts, named parts cannot be told from root=: the variable, and a hint.
    expect(swupdate.assess(marked, onB, so)).toMatchObject({ bootedSlot: "a" });
    expect(swupdate.assess(marked, onB, so).problems?.[0]).toMatch(
      /partitions a, b: .*\(set bootState\.rootParts\)$/,
    );
  });
});
