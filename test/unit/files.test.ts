// Our own files, on a real filesystem in a temp dir: atomic writes, modes, records. Runs unprivileged.
import { spawnSync } from "node:child_process";
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileFlagWriter } from "../../src/actions/flag-writer.js";
import { FileStatusStore } from "../../src/actions/status-store.js";
import { TrialRecords } from "../../src/actions/trials.js";
import { writeAtomic } from "../../src/base/atomic-write.js";
import { flagPathProblem } from "../../src/trust/flags.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "bootwarden-unit-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const mode = (f: string) => statSync(f).mode & 0o777;

describe("writeAtomic", () => {
  it("writes through a symlink to its target; the link stays a link", async () => {
    mkdirSync(path.join(dir, "real"));
    writeFileSync(path.join(dir, "real/env"), "old");
    symlinkSync("real/env", path.join(dir, "env"));
    await writeAtomic(path.join(dir, "env"), "new", { durable: true });
    expect(lstatSync(path.join(dir, "env")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(dir, "env"))).toBe("real/env");
    expect(readFileSync(path.join(dir, "real/env"), "utf8")).toBe("new");
  });

  it("keeps an existing file's mode, and gives a new file the mode asked for despite the umask", async () => {
    const f = path.join(dir, "f");
    writeFileSync(f, "x", { mode: 0o604 });
    await writeAtomic(f, "y");
    expect(mode(f)).toBe(0o604);
    await writeAtomic(path.join(dir, "g"), "y", { mode: 0o640 });
    expect(mode(path.join(dir, "g"))).toBe(0o640);
  });

  it("leaves no temp file behind, and never follows the old fixed temp name", async () => {
    const f = path.join(dir, "grubenv");
    const victim = path.join(dir, "victim");
    writeFileSync(victim, "keep");
    symlinkSync(victim, path.join(dir, ".grubenv.bootwarden-new"));
    await writeAtomic(f, "data");
    expect(readFileSync(victim, "utf8")).toBe("keep");
    expect(readdirSync(dir).sort()).toEqual([".grubenv.bootwarden-new", "grubenv", "victim"]);
  });

  it("creates missing directories with the mode asked for", async () => {
    await writeAtomic(path.join(dir, "state/x.json"), "{}", { dirMode: 0o700 });
    expect(mode(path.join(dir, "state"))).toBe(0o700);
  });
});

describe("records and flags", () => {
  it("status.json, last-trial.json and the flags are 0640; the state directory 0700", async () => {
    const store = new FileStatusStore(path.join(dir, "run"), path.join(dir, "state"));
    await store.write({ phase: "normal", updatedAt: "", pid: 1, done: [], notes: [] });
    await store.writeLastTrial({ slot: "B", verdict: "unhealthy", reason: "r", at: "t" });
    await new FileFlagWriter(path.join(dir, "run")).write("unhealthy", "secret reason");
    expect(mode(path.join(dir, "run/status.json"))).toBe(0o640);
    expect(mode(path.join(dir, "state/last-trial.json"))).toBe(0o640);
    expect(mode(path.join(dir, "state"))).toBe(0o700);
    expect(mode(path.join(dir, "run/unhealthy"))).toBe(0o640);
    expect(await store.readLastTrial()).toMatchObject({ slot: "B" });
  });

  it("exactly one of healthy and unhealthy exists", async () => {
    const w = new FileFlagWriter(dir);
    await w.write("unhealthy", "a");
    await w.write("healthy", "b");
    expect(readdirSync(dir)).toEqual(["healthy"]);
  });

  const B = { slot: "PARTLABEL=USR-B", id: "PARTUUID=b" };
  const A = { slot: "PARTLABEL=USR-A", id: "PARTUUID=a" };

  it("the failed trials are counted per slot identity until the slot is blessed", async () => {
    const h = new TrialRecords(dir);
    expect(await h.failed(B, "r1")).toBe(1);
    // The same partition by another name is the same slot.
    expect(await h.failed({ slot: "PARTUUID=b", id: B.id }, "r2")).toBe(2);
    expect(await h.failed(A, "r3")).toBe(1);
    await h.blessed(B);
    expect(await h.failures()).toMatchObject({ [A.id]: { failures: 1 }, [B.id]: { failures: 0 } });
  });

  it("the failed trials stay bounded", async () => {
    const h = new TrialRecords(dir);
    for (let i = 0; i < 20; i++)
      await h.failed({ slot: `S${i}`, id: `S${i}` }, "r", new Date(1_000_000 + i).toISOString());
    expect(Object.keys(await h.failures())).toHaveLength(16);
  });

  it.each([
    ["trials.json", "5"],
    ["trials.json", '{"x": {"failures": "many"}}'],
    ["trials.json", "not json"],
    ["history.json", '{"boot": 1}'],
    ["history.json", '[1, {"boot": "b", "slot": 5, "startedAt": "t"}]'],
    ["last-trial.json", "[]"],
  ])("a damaged %s (%s) is said once, read as empty and replaced by the next write", async (file, text) => {
    writeFileSync(path.join(dir, file), text);
    const said: string[] = [];
    const h = new TrialRecords(dir, (p) => said.push(p));
    await h.failures();
    await h.history();
    await h.lastTrial();
    await h.failures();
    await h.history();
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(new RegExp(`^${path.join(dir, file)}: (not valid JSON|not a |\\d+ damaged)`));
    expect(await h.failed(B, "r")).toBe(1);
    await h.started(B);
    await h.writeLastTrial({ slot: B.slot, verdict: "unhealthy", reason: "r", at: "t" });
    const again: string[] = [];
    const fresh = new TrialRecords(dir, (p) => again.push(p));
    expect(await fresh.failures()).toMatchObject({ [B.id]: { failures: 1 } });
    expect((await fresh.history()).map((r) => r.id)).toEqual([B.id]);
    expect(await fresh.lastTrial()).toMatchObject({ slot: B.slot });
    expect(again).toEqual([]);
  });

  it("a FIFO in place of a record is refused by type, without hanging", async () => {
    spawnSync("mkfifo", [path.join(dir, "history.json")]);
    const said: string[] = [];
    expect(await new TrialRecords(dir, (p) => said.push(p)).history()).toEqual([]);
    expect(said).toEqual([`${path.join(dir, "history.json")}: cannot read: not a regular file (a fifo)`]);
  });
});

describe("flag path trust", () => {
  it("/tmp and /var/tmp are refused outright", async () => {
    expect(await flagPathProblem("/tmp/ready")).toMatch(/under \/tmp/);
    expect(await flagPathProblem("/var/tmp/x/ready")).toMatch(/under \/tmp/);
  });

  it("/dev/shm is writable by every user", async () => {
    expect(await flagPathProblem("/dev/shm/ready")).toBe(
      "/dev/shm/ready: /dev/shm is writable by every user",
    );
  });

  it("a flag under root-owned directories that nobody else can write is fine", async () => {
    expect(await flagPathProblem("/run/nonexistent-app/ready")).toBeUndefined();
  });
});
