// The system extension end to end: a Debian 12 tree with no Node at all gets bootwarden through
// scripts/install-sysext.sh from the built image; systemd-sysext merges it at boot, bootwarden-sysext.service
// reloads PID 1, and the healthy and the bad upgrade play out as with the .deb.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  EXIT_REBOOT,
  type JournalEntry,
  Machine,
  machineConfig,
  sysextImage,
} from "../../scripts/lib/harness.mjs";
import { MessageId } from "../../src/base/message-ids.js";
import { byId, explainJournal, journalX, machinesOfFile } from "../helpers/machines.js";

let image: string;
const machines = machinesOfFile();

beforeAll(() => {
  image = sysextImage();
}, 900_000);

function machine(name: string, opts: { badSlots?: string[] } = {}): Machine {
  const m = new Machine(`bw-sx-${name}`).create({
    config: machineConfig(),
    install: "sysext",
    image,
    ...opts,
  });
  machines.push(m);
  return m;
}

describe("the sysext on a Debian 12 tree without Node", { timeout: 300_000 }, () => {
  it("installs unpacked, with the units enabled and the reload unit in /etc; no Node anywhere in the tree", () => {
    const m = machine("layout");
    expect(m.installLog).toMatch(/unpacked as the directory extension \/var\/lib\/extensions\/bootwarden\//);
    expect(m.installLog).toMatch(/bootwarden-sysext\.service \(in \/etc\) reloads PID 1/);
    for (const p of ["usr/bin/node", "usr/bin/nodejs", "usr/local/bin/node", "usr/lib/bootwarden"])
      expect(existsSync(path.join(m.dir, p)), p).toBe(false);
    const dpkg = spawnSync("chroot", [m.dir, "dpkg-query", "-W", "nodejs"], { encoding: "utf8" });
    expect(dpkg.status).not.toBe(0);
    expect(dpkg.stderr).toMatch(/no packages found matching nodejs/);
    expect(existsSync(path.join(m.dir, "var/lib/extensions/bootwarden/usr/lib/bootwarden/node"))).toBe(true);
    expect(
      readlinkSync(path.join(m.dir, "etc/systemd/system/multi-user.target.wants/bootwarden.service")),
    ).toBe("/usr/lib/systemd/system/bootwarden.service");
  });

  it("healthy upgrade: merged at boot, the daemon blesses B, then collects its heap", async () => {
    const m = machine("healthy");
    m.awaitRelease();
    // Before it powers off: the daemon's anonymous executable mappings (Rss in kB), and how many mappings it has.
    const end = path.join(m.dir, "usr/local/bin/test-end");
    const smaps = `f=/proc/$(systemctl show -P MainPID bootwarden.service)/smaps
{ grep -c '^[0-9a-f]*-[0-9a-f]* ' "$f"
  awk '/^[0-9a-f]+-[0-9a-f]+ /{x = ($2 ~ /x/ && NF == 5)} x && /^Rss:/{print $2}' "$f"; } > /var/lib/bootwarden-test/anon-exec
`;
    writeFileSync(end, readFileSync(end, "utf8").replace("systemctl poweroff", `${smaps}systemctl poweroff`));
    m.arm("USR-B");
    explainJournal(m);
    const boot = await m.boot();
    expect(boot).toMatchObject({ slot: "USR-B", exit: 0 });
    // The sysext's catalog, compiled by its bootwarden-catalog.service: journalctl -x explains the records.
    expect(journalX(m)).toMatch(/Subject: Trial boot of PARTLABEL=USR-B: assessment started/);
    expect(m.slots()[1]).toMatchObject({ priority: 2, tries: 0, successful: true });
    const j: JournalEntry[] = m.journal(0);
    expect(j.some((e) => /Merged extensions into '\/usr'/.test(e.MESSAGE))).toBe(true);
    expect(byId(j, MessageId.verdict).map((e) => e.BOOTWARDEN_VERDICT)).toEqual(["healthy"]);
    expect(byId(j, MessageId.markedGood)).toHaveLength(1);
    expect(m.file("var/lib/bootwarden-test/gated-ran")).toBe("ran\n");
    // The bundled Node's native addons work: structured journal fields (above) and sd_notify from the main PID.
    expect(j.some((e) => /reception only permitted for main PID/.test(e.MESSAGE))).toBe(false);
    expect(j.some((e) => /bootwarden\.service: Failed with result/.test(e.MESSAGE))).toBe(false);
    // The bundled Node loads the image's own native addon (the mark's lock above), and collects once idle.
    expect(
      j.filter((e) => /idle: collected|could not collect the heap/.test(e.MESSAGE)).map((e) => e.MESSAGE),
    ).toEqual([expect.stringMatching(/^idle: collected the heap \(\d+\.\d MB in use\)$/)]);
    // /usr is an overlay here, as on Flatcar: without --no-short-builtin-calls V8 copies its builtins into 2 MB of
    // anonymous memory (an r-xp mapping with no file). Only the JIT's own code may be anonymous and executable.
    const [count, ...anonExec] = (m.file("var/lib/bootwarden-test/anon-exec") ?? "")
      .trim()
      .split("\n")
      .map(Number);
    expect(count).toBeGreaterThan(50);
    expect(anonExec.filter((kb) => kb >= 1024)).toEqual([]);
  });

  it("bad upgrade: B is marked bad, the machine reboots into A, which reports the failed trial", async () => {
    const m = machine("bad", { badSlots: ["USR-B"] });
    m.arm("USR-B");
    expect(await m.boot()).toMatchObject({ slot: "USR-B", exit: EXIT_REBOOT });
    expect(m.slots()[1]).toMatchObject({ priority: 0, tries: 0, successful: false });
    expect(byId(m.journal(0), MessageId.markedBad)).toHaveLength(1);
    expect(await m.boot()).toMatchObject({ slot: "USR-A", exit: 0 });
    expect(byId(m.journal(1), MessageId.previousTrialFailed)[0]?.MESSAGE).toMatch(
      /after a failed trial boot of PARTLABEL=USR-B: unhealthy/,
    );
  });
});
