import { describe, expect, it } from "vitest";
import { checkUnits } from "../../src/commands/check-units.js";
import { FakeSystemd } from "../fakes/fake-systemd.js";

const assessment = (critical: string[], wanted: string[] = []) => ({
  critical: { units: critical, flags: [], failFlags: [], commands: [], directories: [] },
  wanted: { units: wanted, flags: [], failFlags: [], commands: [], directories: [] },
});

describe("check-config's look at the units through systemd (LoadUnit)", () => {
  it("a critical unit that does not exist or is masked is an error; a wanted one a warning; loaded ones pass", async () => {
    const systemd = new FakeSystemd();
    systemd.units.set("sshd.service", { unit: { LoadState: "not-found" }, svc: {} });
    systemd.units.set("app.service", { unit: { LoadState: "masked" }, svc: {} });
    systemd.units.set("chronyd.service", { unit: { LoadState: "not-found" }, svc: {} });
    const r = await checkUnits(
      assessment(["ssh.service", "sshd.service", "app.service"], ["chronyd.service"]),
      () => systemd,
    );
    expect(r.errors).toEqual([
      "assessment.critical.units: sshd.service: no such unit (LoadState=not-found); every trial would be unhealthy",
      "assessment.critical.units: app.service: masked: it never starts (LoadState=masked); every trial would be unhealthy",
    ]);
    expect(r.warnings).toEqual([
      "assessment.wanted.units: chronyd.service: no such unit (LoadState=not-found); every trial would be degraded",
    ]);
  });

  it("systemd out of reach: the units are not checked, and a warning says so", async () => {
    const r = await checkUnits(assessment(["ssh.service"]), () => {
      throw Object.assign(new Error("connect ENOENT"), { code: "ENOENT" });
    });
    expect(r).toEqual({
      errors: [],
      warnings: [
        "systemd is not reachable over the system bus (ENOENT): the critical and wanted units were not checked",
      ],
    });
  });

  it("no units configured: systemd is not asked", async () => {
    let asked = false;
    const r = await checkUnits(assessment([]), () => {
      asked = true;
      return new FakeSystemd();
    });
    expect(asked).toBe(false);
    expect(r).toEqual({ errors: [], warnings: [] });
  });
});
