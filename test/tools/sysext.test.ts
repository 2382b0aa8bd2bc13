// The release artifact for Flatcar and Kairos: what is in the image, what systemd makes of it, that it is small,
// and that the same input gives the same bytes.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sysextImage } from "../../scripts/e2e/harness.mjs";
import { REPO, requireTool, sh, tempDir } from "../helpers/tools.js";

let image: string;
let dir: string;
let cleanup: () => void;
const sha = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");

beforeAll(() => {
  requireTool("unsquashfs");
  requireTool("systemd-dissect");
  image = sysextImage();
  ({ dir, cleanup } = tempDir());
});
afterAll(() => cleanup());

describe("the sysext image", () => {
  it("holds the runtime, the bundle, the native addons, the units, catalog, tmpfiles and extension-release", () => {
    const list = sh("unsquashfs", ["-l", image])
      .split("\n")
      .map((l) => l.replace(/^squashfs-root/, ""));
    for (const f of [
      "/usr/bin/bootwarden",
      "/usr/lib/bootwarden/node",
      "/usr/lib/bootwarden/bootwarden.mjs",
      "/usr/lib/bootwarden/node_modules/systemd-journald/build/Release/journal_send.node",
      "/usr/lib/bootwarden/node_modules/unix-dgram/build/Release/unix_dgram.node",
      "/usr/lib/bootwarden/native/bootwarden.node",
      "/usr/lib/systemd/system/bootwarden.service",
      "/usr/lib/systemd/system/bootwarden-verdict.service",
      "/usr/lib/systemd/system/bootwarden-backstop.timer",
      "/usr/lib/systemd/catalog/bootwarden.catalog",
      "/usr/lib/tmpfiles.d/bootwarden.conf",
      "/usr/lib/extension-release.d/extension-release.bootwarden",
    ])
      expect(list, f).toContain(f);
    // Only /usr (and /opt) count in a sysext: nothing else may be in it.
    expect(list.filter((l) => l && !l.startsWith("/usr"))).toEqual([]);
  });

  it("systemd-dissect sees a system extension for any OS on x86-64 (installed under its name, bootwarden.raw)", () => {
    const named = path.join(dir, "bootwarden.raw");
    copyFileSync(image, named);
    const out = sh("systemd-dissect", [named]);
    expect(out).toMatch(/Ext\. Rel\.: ID=_any\n\s+ARCHITECTURE=x86-64\n\s+SYSEXT_LEVEL=1\.0/);
    expect(out).toMatch(/✓ extension for system/);
  });

  it("is at most 60 MiB", () => {
    const mib = statSync(image).size / 2 ** 20;
    console.log(`sysext image: ${mib.toFixed(1)} MiB`);
    expect(mib).toBeLessThanOrEqual(60);
  });

  it("is reproducible: a second build from the same tree gives the same bytes", () => {
    const again = path.join(dir, "again");
    const r = spawnSync("bash", [path.join(REPO, "scripts/build-sysext.sh"), "--out", again], {
      encoding: "utf8",
    });
    expect(r.status, r.stderr).toBe(0);
    expect(sha(path.join(again, path.basename(image)))).toBe(sha(image));
  }, 600_000);

  it("its own Node runs the bundled CLI", () => {
    const tree = path.join(dir, "tree");
    sh("unsquashfs", ["-q", "-n", "-d", tree, image]);
    const node = path.join(tree, "usr/lib/bootwarden/node");
    expect(sh(node, ["--version"]).trim()).toMatch(/^v24\./);
    const r = spawnSync(node, [path.join(tree, "usr/lib/bootwarden/bootwarden.mjs"), "--help"], {
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: bootwarden <command>/);
  });
});
