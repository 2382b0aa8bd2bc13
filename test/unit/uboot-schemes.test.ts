import { describe, expect, it } from "vitest";
import { mender, rauc, swupdate } from "../../src/bootstate/uboot/schemes.js";

const env = (o: Record<string, string>) => new Map(Object.entries(o));
const o = { attempts: 3, parts: ["2", "3"] as const };

describe("RAUC's variables", () => {
  it("LEFT is hex, as RAUC writes it: a good slot has the attempts, fewer is a trial, 0 or out of BOOT_ORDER is bad", () => {
    const e = env({ BOOT_ORDER: "B A", BOOT_A_LEFT: "3", BOOT_B_LEFT: "2" });
    expect(rauc.assess(e, "rauc.slot=B", o)).toMatchObject({
      bootedSlot: "B",
      trialBoot: true,
      triesLeft: 2,
    });
    expect(rauc.assess(e, "rauc.slot=A", o)).toMatchObject({ trialBoot: false, state: "good" });
    expect(
      rauc.assess(env({ BOOT_ORDER: "A", BOOT_A_LEFT: "a" }), "rauc.slot=A", { ...o, attempts: 10 }),
    ).toMatchObject({
      state: "good",
    });
    // The last try: U-Boot took it before booting B, so B at 0 is a trial still, not a failed slot.
    expect(
      rauc.assess(env({ BOOT_ORDER: "B A", BOOT_A_LEFT: "3", BOOT_B_LEFT: "0" }), "rauc.slot=B", o),
    ).toMatchObject({ trialBoot: true, state: "indeterminate", triesLeft: 0 });
    // Marked bad during this boot (out of BOOT_ORDER): no longer a trial.
    expect(
      rauc.assess(env({ BOOT_ORDER: "A", BOOT_A_LEFT: "3", BOOT_B_LEFT: "0" }), "rauc.slot=B", o),
    ).toMatchObject({ trialBoot: false, state: "bad" });
    // U-Boot skipped B (no tries left) and booted A: the trial of B failed.
    expect(
      rauc.assess(env({ BOOT_ORDER: "B A", BOOT_A_LEFT: "3", BOOT_B_LEFT: "0" }), "rauc.slot=A", o)
        .rolledBackFrom,
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
    expect(mender.assess(e, "", o)).toMatchObject({ bootedSlot: "3", trialBoot: true });
    expect(mender.bad(e, "3", o)).toEqual({
      upgrade_available: "0",
      mender_boot_part: "2",
      mender_boot_part_hex: "2",
    });
    expect(mender.bad(e, "12", { ...o, parts: ["12", "13"] })).toMatchObject({ mender_boot_part_hex: "D" });
    expect(mender.good(e, "3", o)).toEqual({ upgrade_available: "0" });
  });
});

describe("SWUpdate's variables", () => {
  const so = { ...o, parts: ["a", "b"] as const, slotVariable: "rootpart" };
  it("ustate 1 or 2 is a trial, with bootlimit - bootcount tries left; 3 is a failed update of the other slot", () => {
    const trial = env({ rootpart: "b", ustate: "2", bootcount: "1", bootlimit: "3" });
    expect(swupdate.assess(trial, "", so)).toMatchObject({ bootedSlot: "b", trialBoot: true, triesLeft: 2 });
    expect(swupdate.assess(env({ rootpart: "a", ustate: "0" }), "", so)).toMatchObject({
      trialBoot: false,
      state: "good",
      rolledBackFrom: null,
    });
    expect(swupdate.assess(env({ rootpart: "a", ustate: "3" }), "", so).rolledBackFrom).toEqual({
      slot: "b",
      reason: "ustate=3: the update failed",
    });
  });
  it("good, bad and arm write only SWUpdate's variables and the named slot variable", () => {
    const e = env({ rootpart: "b", ustate: "1" });
    expect(swupdate.good(e, "b", so)).toEqual({ ustate: "0", upgrade_available: "0", bootcount: "0" });
    expect(swupdate.bad(e, "b", so)).toEqual({ rootpart: "a", ustate: "3", upgrade_available: "0" });
    expect(swupdate.arm(e, "b", 3, so)).toEqual({
      rootpart: "b",
      ustate: "1",
      upgrade_available: "1",
      bootcount: "0",
    });
  });
});
