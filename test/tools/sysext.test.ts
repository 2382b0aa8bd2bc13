// The release artifact for Flatcar and Kairos: what is in the image, what systemd makes of it, that it is small,
// and that the same input gives the same bytes.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sysextImage } from "../../scripts/lib/harness.mjs";
import { BUNDLED_PACKAGES, REPO, requireTool, sh, tempDir } from "../helpers/tools.js";

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
      "/usr/lib/systemd/system/bootwarden-catalog.service",
      "/usr/share/man/man8/bootwarden.8",
      "/usr/share/man/man5/bootwarden.yaml.5",
      "/usr/lib/tmpfiles.d/bootwarden.conf",
      "/usr/share/dbus-1/system.d/io.github.bootwarden1.conf",
      "/usr/share/polkit-1/actions/io.github.bootwarden1.policy",
      "/usr/lib/extension-release.d/extension-release.bootwarden",
    ])
      expect(list, f).toContain(f);
    // Only /usr (and /opt) count in a sysext: nothing else may be in it.
    expect(list.filter((l) => l && !l.startsWith("/usr"))).toEqual([]);
  });

  it("the Flatcar Butane config built beside it names it and carries its sha512", () => {
    const bu = readFileSync(path.join(path.dirname(image), "bootwarden.bu"), "utf8");
    const sha = createHash("sha512").update(readFileSync(image)).digest("hex");
    expect(bu).toContain(`hash: sha512-${sha}\n`);
    expect(bu).toContain(`source: https://releases.example.com/bootwarden/${path.basename(image)}\n`);
    expect(bu).not.toContain("@IMAGE_SHA512@");
  });

  it("systemd-dissect sees a system extension for any OS on x86-64 (installed under its name, bootwarden.raw)", () => {
    const named = path.join(dir, "bootwarden.raw");
    copyFileSync(image, named);
    const out = sh("systemd-dissect", [named]);
    expect(out).toMatch(/Ext\. Rel\.: ID=_any\n\s+ARCHITECTURE=x86-64\n\s+SYSEXT_LEVEL=1\.0/);
    expect(out).toMatch(/✓ extension for system/);
  });

  it("is at most 60 MiB, and the README gives its size as built (within 1 MiB)", () => {
    const mib = statSync(image).size / 2 ** 20;
    console.log(`sysext image: ${mib.toFixed(1)} MiB`);
    expect(mib).toBeLessThanOrEqual(60);
    const said = /`dist-sysext\/bootwarden-<version>-x86-64\.raw` \(≈(\d+) MiB\)/.exec(
      readFileSync(path.join(REPO, "README.md"), "utf8"),
    );
    expect(said, "the README names the image's size").not.toBeNull();
    expect(Math.abs(Number(said![1]) - mib)).toBeLessThanOrEqual(1);
  });

  it("carries the licences of Node and of every bundled package, and a stripped Node", () => {
    const tree = path.join(dir, "lic");
    sh("unsquashfs", ["-q", "-n", "-d", tree, image]);
    const copyright = readFileSync(path.join(tree, "usr/share/doc/bootwarden/copyright"), "utf8");
    expect(copyright).toMatch(
      /^Files: usr\/lib\/bootwarden\/node\nCopyright: .*\nComment: the official Node\.js v\d+/m,
    );
    for (const p of BUNDLED_PACKAGES) expect(copyright, p).toMatch(new RegExp(`^Comment: .*: ${p} \\d`, "m"));
    expect(sh("readelf", ["-S", path.join(tree, "usr/lib/bootwarden/node")])).not.toMatch(/\.symtab/);
  });

  it("is reproducible: a second build from the same tree gives the same bytes", () => {
    const again = path.join(dir, "again");
    const r = spawnSync("bash", [path.join(REPO, "scripts/build/sysext.sh"), "--out", again], {
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
    expect(r.stdout).toMatch(/^bootwarden 0\.1\.0\nusage: bootwarden <command>/);
  });
});

describe("install-sysext.sh on a working install", () => {
  /** A root tree with what the script looks for (systemd's units directory with systemd-sysext.service). */
  const tree = (name: string) => {
    const root = path.join(dir, name);
    mkdirSync(path.join(root, "usr/lib/systemd/system"), { recursive: true });
    writeFileSync(
      path.join(root, "usr/lib/systemd/system/systemd-sysext.service"),
      "[Unit]\nDescription=sysext\n[Service]\nType=oneshot\nExecStart=/bin/true\n[Install]\nWantedBy=sysinit.target\n",
    );
    return root;
  };
  const install = (root: string, img: string) =>
    spawnSync("bash", [path.join(REPO, "scripts/install-sysext.sh"), "--root", root, "--unpacked", img], {
      encoding: "utf8",
    });
  const release = "var/lib/extensions/bootwarden/usr/lib/extension-release.d/extension-release.bootwarden";

  it("a truncated image over a working --unpacked install changes nothing and says why", () => {
    const root = tree("swap");
    expect(install(root, image).status).toBe(0);
    const before = readFileSync(path.join(root, release), "utf8");
    const cut = path.join(dir, "cut.raw");
    writeFileSync(cut, readFileSync(image).subarray(0, 1 << 20));
    const r = install(root, cut);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `install-sysext: ${cut}: cannot unpack (not a complete squashfs image?); nothing changed\n`,
    );
    expect(readFileSync(path.join(root, release), "utf8")).toBe(before);
    expect(readdirSync(path.join(root, "var/lib/extensions"))).toEqual(["bootwarden"]);
  });

  it("an absolute symlink inside the root that leads out is refused before anything is written", () => {
    const root = tree("escape");
    const outside = path.join(dir, "outside");
    mkdirSync(outside);
    symlinkSync(outside, path.join(root, "var"));
    const r = install(root, image);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^install-sysext: .*\/escape\/var\/lib\/extensions leads outside --root \(to .*\/outside\/lib\/extensions\): refusing to write there\n$/,
    );
    expect(readdirSync(outside)).toEqual([]);
  });

  it("a root without systemd-sysext says so", () => {
    const root = tree("nosysext");
    rmSync(path.join(root, "usr/lib/systemd/system/systemd-sysext.service"));
    const r = install(root, image);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/has no systemd-sysext\.service: system extensions need systemd >= 248/);
  });
});
