// What every test file of the nspawn tier needs around its machines (scripts/lib/harness.mjs).
import { afterAll, beforeAll } from "vitest";
import { ensureRootfs, type JournalEntry, type Machine, requireRoot } from "../../scripts/lib/harness.mjs";

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
