// What every test file of the nspawn tier needs around its machines (scripts/lib/harness.mjs).

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import {
  ensureRootfs,
  type JournalEntry,
  type Machine,
  requireRoot,
  run,
} from "../../scripts/lib/harness.mjs";

/** The file's machines: root and the cached rootfs are checked before its tests, every machine destroyed after. */
export function machinesOfFile(): Machine[] {
  const machines: Machine[] = [];
  beforeAll(() => {
    requireRoot();
    ensureRootfs();
  }, 600_000);
  afterAll(() => {
    for (const m of machines) m.destroy();
  }, 300_000);
  return machines;
}

/** A boot's journal records with this MESSAGE_ID. */
export const byId = (entries: JournalEntry[], id: string) => entries.filter((e) => e.MESSAGE_ID === id);

/** A file in the machine's tree (its directories made 0755). */
export function putFile(m: Machine, p: string, text: string, mode = 0o644): void {
  const f = path.join(m.dir, p);
  mkdirSync(path.dirname(f), { recursive: true, mode: 0o755 });
  writeFileSync(f, text, { mode });
}

/** A unit in the machine's /etc/systemd/system, enabled. */
export function putUnit(m: Machine, name: string, text: string): void {
  putFile(m, `etc/systemd/system/${name}`, text);
  run("systemctl", [`--root=${m.dir}`, "enable", name]);
}

/**
 * A unit that saves `journalctl -x` of bootwarden's records in this boot, once the verdict is in and the catalog unit
 * has run (before the test's own end of the boot): read it with journalX().
 */
export function explainJournal(m: Machine): void {
  putUnit(
    m,
    "test-journal-x.service",
    "[Unit]\nAfter=bootwarden-verdict.service bootwarden-catalog.service\nBefore=test-end.service\n" +
      "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'journalctl -x -b -u bootwarden --no-pager > /var/lib/bootwarden-test/journal-x.txt'\n" +
      "[Install]\nWantedBy=multi-user.target\n",
  );
}
export const journalX = (m: Machine) => m.file("var/lib/bootwarden-test/journal-x.txt");

/**
 * Saves `bootwarden status --json` in the machine at a stage of its boot: "assessing" (as soon as the assessment has
 * started) or "decided" (after the verdict service). Read it with statusAt().
 */
export function captureStatus(m: Machine, stage: "assessing" | "decided"): void {
  const wait =
    stage === "assessing"
      ? "until grep -q assessing /run/bootwarden/status.json 2>/dev/null; do sleep 0.1; done; "
      : "";
  putUnit(
    m,
    `test-status-${stage}.service`,
    `[Unit]\nAfter=bootwarden.service${stage === "decided" ? " bootwarden-verdict.service" : ""}\nBefore=test-end.service\n` +
      `[Service]\nType=oneshot\nExecStart=/bin/sh -c '${wait}bootwarden status --json >> /var/lib/bootwarden-test/status-${stage}.json'\n` +
      "[Install]\nWantedBy=multi-user.target\n",
  );
}
/** The status --json lines captured at a stage, one per boot that ran the capture, parsed. */
export const statusAt = (m: Machine, stage: "assessing" | "decided"): unknown[] =>
  (m.file(`var/lib/bootwarden-test/status-${stage}.json`) ?? "")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
