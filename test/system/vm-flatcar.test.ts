// Tier 4 end to end: the GRUB Flatcar ships (gptprio.next, test/fixtures/flatcar-grub) under QEMU, with bootwarden's
// gpt backend in the guest reading the slot from mount.usr=PARTUUID=; cgpt reads the image after every boot.
// Needs root, qemu-system-x86, cgpt, sgdisk, mtools; CI runs it.
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO, runTierScript } from "../helpers/tools.js";

const OUT = path.join(REPO, ".cache/vm-flatcar");
let code = -1;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error("this test needs root");
  const run = await runTierScript("vm-flatcar.sh", OUT);
  code = run.code;
  const output = run.output;
  console.log(
    output
      .split("\n")
      .filter((l) => /^\[|QEMU-START|FLATCAR-BOOT|BWTEST/.test(l))
      .join("\n"),
  );
}, 1_500_000);

/** cgpt's reading of both slots before each plan and after each boot: "USR-A P1 T0 S1 USR-B P2 T0 S1". */
const attrs = () =>
  Object.fromEntries(
    readFileSync(path.join(OUT, "attrs.log"), "utf8")
      .trim()
      .split("\n")
      .map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 2)]),
  );
/** Per boot: the slot GRUB chose and Linux ran, and bootwarden's journal (dumped, or forwarded to the console). */
function boots(plan: string) {
  return readFileSync(path.join(OUT, `serial-${plan}.log`), "latin1")
    .split("QEMU-START")
    .slice(1)
    .map((b) => ({
      grub: /FLATCAR-BOOT: device=hd0,gpt(\d)/.exec(b)?.[1],
      slot: /BWTEST: booted slot=(\w)/.exec(b)?.[1],
      log: [...b.matchAll(/BWLOG: (.*)|bootwarden\[\d+\]: (.*)|bootwarden-backstop\[\d+\]: (.*)/g)].map(
        (m) => (m[1] ?? m[2] ?? m[3])!,
      ),
    }));
}
const has = (log: string[], re: RegExp) => log.some((l) => re.test(l));

describe("Flatcar's GRUB (gptprio) under QEMU", () => {
  it("the VM run finished every plan", () => expect(code).toBe(0));

  it("healthy: arm stages B; GRUB spends its try; bootwarden blesses it (successful, priority kept); B stays chosen", () => {
    const a = attrs();
    expect(a["before healthy"]).toBe("USR-A P1 T0 S1 USR-B P2 T1 S0");
    const [b1, b2] = boots("healthy");
    expect(b1).toMatchObject({ grub: "4", slot: "B" });
    expect(has(b1!.log, /verdict for trial boot of PARTLABEL=USR-B: healthy/)).toBe(true);
    expect(has(b1!.log, /marked PARTLABEL=USR-B good on \/dev\/vda/)).toBe(true);
    expect(a["after healthy boot 1"]).toBe("USR-A P1 T0 S1 USR-B P2 T0 S1");
    expect(b2).toMatchObject({ grub: "4", slot: "B" });
    expect(has(b2!.log, /normal boot of PARTLABEL=USR-B/)).toBe(true);
    expect(a["after healthy boot 2"]).toBe("USR-A P1 T0 S1 USR-B P2 T0 S1");
  });

  it("bad: the failing trial of A is marked bad, the guest reboots, GRUB boots B, which reports the failed trial", () => {
    const a = attrs();
    expect(a["before bad"]).toBe("USR-A P3 T1 S0 USR-B P2 T0 S1");
    const [b1, b2] = boots("bad");
    expect(b1).toMatchObject({ grub: "3", slot: "A" });
    expect(has(b1!.log, /verdict for trial boot of PARTLABEL=USR-A: unhealthy/)).toBe(true);
    expect(a["after bad boot 1"]).toBe("USR-A P0 T0 S0 USR-B P2 T0 S1");
    expect(b2).toMatchObject({ grub: "4", slot: "B" });
    expect(has(b2!.log, /booted PARTLABEL=USR-B after a failed trial boot of PARTLABEL=USR-A/)).toBe(true);
    expect(a["after bad boot 2"]).toBe("USR-A P0 T0 S0 USR-B P2 T0 S1");
  });

  it("hang: no verdict on A's trial; the backstop marks it bad at the deadline; GRUB boots B", () => {
    const a = attrs();
    expect(a["before hang"]).toBe("USR-A P3 T1 S0 USR-B P2 T0 S1");
    const [b1, b2] = boots("hang");
    expect(b1).toMatchObject({ grub: "3", slot: "A" });
    expect(has(b1!.log, /^backstop: no verdict 30s after boot/)).toBe(true);
    expect(has(b1!.log, /^verdict for trial boot/)).toBe(false); // the daemon never decided
    expect(a["after hang boot 1"]).toBe("USR-A P0 T0 S0 USR-B P2 T0 S1");
    expect(b2).toMatchObject({ grub: "4", slot: "B" });
    expect(has(b2!.log, /after a failed trial boot of PARTLABEL=USR-A/)).toBe(true);
  });
});
