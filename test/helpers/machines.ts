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
