import { describe, expect, it } from "vitest";
import { parseDisabledHealthchecks } from "../../src/config/greenboot.js";

describe("greenboot.conf's DISABLED_HEALTHCHECKS", () => {
  it("reads the bash array as greenboot writes it, quoted or not; the last assignment wins", () => {
    const conf = `GREENBOOT_MAX_BOOT_ATTEMPTS=3\nDISABLED_HEALTHCHECKS=()\n# later\nDISABLED_HEALTHCHECKS=("01_repository_dns_check.sh" '02_watchdog.sh' 03_x.sh)\n`;
    expect(parseDisabledHealthchecks(conf)).toEqual({
      names: ["01_repository_dns_check.sh", "02_watchdog.sh", "03_x.sh"],
    });
  });

  it("an array over several lines, as greenboot.conf's own example writes it; its commented example is no assignment", () => {
    const conf = `### DISABLED_HEALTHCHECKS=(\n### \t"01_repository_dns_check.sh" \n### )\nDISABLED_HEALTHCHECKS=(\n\t"01_repository_dns_check.sh" \n\t"02_watchdog.sh"\n)\n`;
    expect(parseDisabledHealthchecks(conf)).toEqual({
      names: ["01_repository_dns_check.sh", "02_watchdog.sh"],
    });
    expect(parseDisabledHealthchecks('### DISABLED_HEALTHCHECKS=(\n###  "a.sh"\n### )\n')).toEqual({
      names: [],
    });
    expect(parseDisabledHealthchecks('DISABLED_HEALTHCHECKS=(\n "a.sh"\n')).toEqual({
      problem: "DISABLED_HEALTHCHECKS=( is never closed",
    });
  });

  it("none: no line, an empty value, or ()", () => {
    for (const conf of [
      "GREENBOOT_MAX_BOOT_ATTEMPTS=3\n",
      "DISABLED_HEALTHCHECKS=\n",
      "DISABLED_HEALTHCHECKS=()\n",
      "DISABLED_HEALTHCHECKS=( )\n",
    ])
      expect(parseDisabledHealthchecks(conf)).toEqual({ names: [] });
  });

  it("a value that is not a bash array is a problem, said in one line", () => {
    expect(parseDisabledHealthchecks('DISABLED_HEALTHCHECKS="a.sh b.sh"\n')).toEqual({
      problem: 'DISABLED_HEALTHCHECKS="a.sh b.sh" is not a bash array ("a.sh" "b.sh")',
    });
  });
});
