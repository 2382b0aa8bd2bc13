import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Observation } from "../../src/core/assessment.js";
import { FlagWatcher } from "../../src/watch/flags.js";

// Real files and a real chokidar watcher on a temp dir (standing in for /run); their trust: test/tools/flags.test.ts.
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "bw-flags-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function until(pred: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () =>
      pred() ? resolve() : Date.now() - t0 > ms ? reject(new Error("timed out")) : setTimeout(tick, 20);
    tick();
  });
}

describe("flag watcher", () => {
  it("sees a flag created in a directory that did not exist when watching began, and a fail flag", async () => {
    const seen: [string, Observation][] = [];
    const ready = path.join(dir, "myapp/sub/ready");
    const broken = path.join(dir, "other/broken");
    const w = new FlagWatcher(
      [
        { id: "flag:ready", file: ready, path: ready, failure: false, checkTrust: false },
        { id: "failFlag:broken", file: broken, path: broken, failure: true, checkTrust: false },
      ],
      (id, obs) => seen.push([id, obs]),
      () => 42,
    );
    await w.start();
    expect(seen.map(([id, o]) => `${id}=${o.kind}`).sort()).toEqual([
      "failFlag:broken=up",
      "flag:ready=pending",
    ]);
    mkdirSync(path.dirname(ready), { recursive: true });
    writeFileSync(ready, "");
    await until(() => seen.some(([id, o]) => id === "flag:ready" && o.kind === "up"));
    mkdirSync(path.dirname(broken));
    writeFileSync(broken, "disk full\nmore\n");
    await until(() => seen.some(([id, o]) => id === "failFlag:broken" && o.kind === "failed"));
    // Presence only: the file's content never becomes the reason (it could be a link to a secret).
    expect(seen.find(([id, o]) => id === "failFlag:broken" && o.kind === "failed")?.[1].detail).toBe(
      "appeared",
    );
    await w.close();
  });

  it("a failFlag that is a symlink to a secret counts as present and is never read", async () => {
    const secret = path.join(dir, "secret");
    writeFileSync(secret, "root:$6$hash\n");
    const f = path.join(dir, "broken");
    symlinkSync(secret, f);
    const seen: Observation[] = [];
    const w = new FlagWatcher(
      [{ id: "failFlag:broken", file: f, path: f, failure: true, checkTrust: false }],
      (_, o) => seen.push(o),
      () => 0,
    );
    await w.start();
    expect(seen).toEqual([{ kind: "failed", detail: "appeared" }]);
    await w.close();
  });

  it("reports a flag that already exists at start", async () => {
    const f = path.join(dir, "ready");
    writeFileSync(f, "");
    const seen: string[] = [];
    const w = new FlagWatcher(
      [{ id: "flag:ready", file: f, path: f, failure: false, checkTrust: false }],
      (id, o) => seen.push(`${id}=${o.kind}`),
      () => 0,
    );
    await w.start();
    expect(seen).toEqual(["flag:ready=up"]);
    await w.close();
  });
});
