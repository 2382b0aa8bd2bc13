// Which check and hook scripts may run as root: owned by root, writable by nobody else, in directories that are
// the same all the way up. Real files with real owners and modes (runs as root, like CI), under BOOTWARDEN_ROOT so
// that the fixture's "/" is a root-owned 0700 directory whatever the host's /tmp is.
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cli, tempDir } from "../helpers/tools.js";

let root: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir: root, cleanup } = tempDir());
  for (const d of [
    "etc/bootwarden",
    "etc/greenboot/check/required.d",
    "etc/greenboot/check/wanted.d",
    "etc/greenboot/red.d",
  ])
    mkdirSync(path.join(root, d), { recursive: true, mode: 0o755 });
  chmodSync(root, 0o755);
  writeFileSync(
    path.join(root, "etc/bootwarden/config.yaml"),
    `bootState:
  backend: grubenv
  path: /boot/grubenv
assessment:
  critical:
    directories: [/etc/greenboot/check/required.d]
  wanted:
    directories: [/etc/greenboot/check/wanted.d]
hooks:
  redDirectories: [/etc/greenboot/red.d]
`,
  );
  put("etc/greenboot/check/required.d/01-repo.sh", 0o644);
  put("etc/greenboot/check/required.d/02-probe", 0o755);
  put("etc/greenboot/check/required.d/README", 0o644);
  put("etc/greenboot/red.d/90-notify.sh", 0o700);
});
afterEach(() => cleanup());

function put(p: string, mode: number): string {
  const f = path.join(root, p);
  writeFileSync(f, "exit 0\n", { mode });
  chmodSync(f, mode);
  return f;
}
const checkConfig = () => cli(["check-config"], { BOOTWARDEN_ROOT: root });
const refusedWith = (pattern: RegExp) => {
  const r = checkConfig();
  expect(r.status).toBe(78);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
};

describe("check and hook scripts", () => {
  it("root-owned scripts in root-owned directories are found: every *.sh and every executable, READMEs skipped", () => {
    const r = checkConfig();
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/backend grubenv, 2 critical check script\(s\), 1 hook script\(s\)\n$/);
  });

  it("a world-writable script is refused, naming it", () => {
    put("etc/greenboot/check/wanted.d/10-open.sh", 0o666);
    refusedWith(
      /^bootwarden: .*\/etc\/greenboot\/check\/wanted\.d\/10-open\.sh: script \/etc\/greenboot\/check\/wanted\.d\/10-open\.sh is writable by every user; refusing to run it as root$/m,
    );
  });

  it("a script owned by another user is refused", () => {
    chownSync(path.join(root, "etc/greenboot/red.d/90-notify.sh"), 65534, 65534);
    refusedWith(/red\.d\/90-notify\.sh is owned by uid 65534, not root/);
  });

  it("a group-writable directory above the scripts is refused", () => {
    chmodSync(path.join(root, "etc/greenboot/check"), 0o775);
    refusedWith(/directory \/etc\/greenboot\/check is writable by its group/);
  });

  it("a symlink is judged by its target", () => {
    mkdirSync(path.join(root, "srv/open"), { recursive: true });
    chmodSync(path.join(root, "srv/open"), 0o777);
    put("srv/open/check.sh", 0o755);
    symlinkSync(
      "../../../../srv/open/check.sh",
      path.join(root, "etc/greenboot/check/required.d/03-link.sh"),
    );
    refusedWith(/03-link\.sh: directory \/srv\/open is writable by every user/);
  });

  it("a directory that does not exist is refused", () => {
    writeFileSync(
      path.join(root, "etc/bootwarden/config.yaml"),
      "bootState:\n  backend: grubenv\n  path: /boot/grubenv\nassessment:\n  critical:\n    directories: [/etc/greenboot/check/requried.d]\n",
    );
    refusedWith(/\/etc\/greenboot\/check\/requried\.d: does not exist; refusing to run it as root/);
  });
});
