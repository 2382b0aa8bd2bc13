// After a fallback on an ostree/bootc host: the previous deployment made the default once per failed trial, through
// a transient unit (fake systemd here; the real one with stand-in tools in test/system/e2e-checks.test.ts).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DeploymentRollback, UNIT } from "../../src/actions/deployment-rollback.js";
import { TrialRecords } from "../../src/actions/trials.js";
import { MessageId } from "../../src/base/message-ids.js";
import { memoryLogger } from "../fakes/fake-ports.js";
import { FakeSystemd } from "../fakes/fake-systemd.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "bw-deploy-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function setup(files: string[]) {
  const systemd = new FakeSystemd();
  const records = new TrialRecords(dir);
  const { log, records: logged } = memoryLogger();
  const d = new DeploymentRollback(systemd, records, log, (p) => files.includes(p));
  const said = () => logged.filter((r) => r.MESSAGE_ID === MessageId.deploymentRollback).map((r) => r.msg);
  return { systemd, records, d, said };
}
const B = { slot: "default" };

describe("the deployment rollback after a fallback", () => {
  it("on an ostree host: run once as a transient unit, recorded, not again until a new trial starts", async () => {
    const { systemd, records, d, said } = setup(["/run/ostree-booted", "/usr/bin/bootc"]);
    await d.afterFallback(B);
    await d.afterFallback(B);
    expect([...systemd.transient.keys()]).toEqual([UNIT]);
    expect(systemd.transient.get(UNIT)?.argv.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    expect(said()).toEqual([
      `made the previous deployment the default after the failed trial of default (${UNIT})`,
    ]);
    await records.started({ slot: "default", id: "default" });
    systemd.transient.clear();
    await d.afterFallback(B);
    expect([...systemd.transient.keys()]).toEqual([UNIT]);
  });

  it("a run that fails is said and tried again at the next fallback boot", async () => {
    const { systemd, d, said } = setup(["/run/ostree-booted", "/usr/bin/rpm-ostree"]);
    systemd.jobResults.set(UNIT, "failed");
    await d.afterFallback(B);
    expect(said()).toEqual([
      `${UNIT} ended with "failed" (journalctl -u ${UNIT}); tried again at the next boot`,
    ]);
    systemd.jobResults.set(UNIT, "done");
    systemd.transient.clear();
    await d.afterFallback(B);
    expect([...systemd.transient.keys()]).toEqual([UNIT]);
  });

  it("not an ostree host: nothing; an ostree host without bootc or rpm-ostree: said once, nothing run", async () => {
    const plain = setup(["/usr/bin/bootc"]);
    await plain.d.afterFallback(B);
    expect(plain.systemd.transient.size).toBe(0);
    expect(plain.said()).toEqual([]);
    const bare = setup(["/run/ostree-booted"]);
    await bare.d.afterFallback(B);
    await bare.d.afterFallback(B);
    expect(bare.systemd.transient.size).toBe(0);
    expect(bare.said()).toEqual([
      "ostree host without bootc or rpm-ostree: the previous deployment is not made the default",
    ]);
  });
});
