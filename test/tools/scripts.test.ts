// Which check and hook scripts may run as root: owned by root, writable by nobody else, in directories that are
// the same all the way up. Real files with real owners and modes (runs as root, like CI), under BOOTWARDEN_ROOT so
// that the fixture's "/" is a root-owned 0700 directory whatever the host's /tmp is.
import { chmodSync, chownSync, lchownSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listScripts } from "../../src/trust/scripts.js";
import { cli, NO_BUS, tempDir } from "../helpers/tools.js";

let root: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir: root, cleanup } = tempDir());
  for (const d of [
    "boot",
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
  writeFileSync(path.join(root, "boot/grubenv"), ""); // the boot state check-config looks for
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
const checkConfig = () => cli(["check-config"], { BOOTWARDEN_ROOT: root, ...NO_BUS });
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

// Absolute link targets name the fixture's own files by their host path (the kernel follows them so); the check takes
// a target inside the fixture as the system path it stands for.
describe("a script reached through links is trusted only if every hop is", () => {
  it("a link owned by another user on the way is refused, though the final target is root's", () => {
    mkdirSync(path.join(root, "usr/libexec"), { recursive: true, mode: 0o755 });
    put("usr/libexec/real.sh", 0o755);
    mkdirSync(path.join(root, "etc/links"), { mode: 0o755 });
    symlinkSync(path.join(root, "usr/libexec/real.sh"), path.join(root, "etc/links/hop"));
    lchownSync(path.join(root, "etc/links/hop"), 65534, 65534);
    symlinkSync(
      path.join(root, "etc/links/hop"),
      path.join(root, "etc/greenboot/check/required.d/04-chain.sh"),
    );
    refusedWith(/04-chain\.sh: symbolic link \/etc\/links\/hop is owned by uid 65534, not root/);
  });

  it("a link in a directory every user can write is refused (the user re-points it after the check)", () => {
    mkdirSync(path.join(root, "usr/libexec"), { recursive: true, mode: 0o755 });
    put("usr/libexec/real.sh", 0o755);
    mkdirSync(path.join(root, "var/tmp"), { recursive: true });
    chmodSync(path.join(root, "var/tmp"), 0o1777);
    symlinkSync(path.join(root, "usr/libexec/real.sh"), path.join(root, "var/tmp/link"));
    symlinkSync(
      path.join(root, "var/tmp/link"),
      path.join(root, "etc/greenboot/check/required.d/04-chain.sh"),
    );
    refusedWith(/04-chain\.sh: directory \/var\/tmp is writable by every user/);
  });

  it("a check directory linked through a user's directory is refused", () => {
    mkdirSync(path.join(root, "opt/checks"), { recursive: true, mode: 0o755 });
    mkdirSync(path.join(root, "home/u"), { recursive: true, mode: 0o755 });
    chownSync(path.join(root, "home/u"), 65534, 65534);
    symlinkSync(path.join(root, "opt/checks"), path.join(root, "home/u/dir"));
    rmSync(path.join(root, "etc/greenboot/check/wanted.d"), { recursive: true });
    symlinkSync(path.join(root, "home/u/dir"), path.join(root, "etc/greenboot/check/wanted.d"));
    refusedWith(/wanted\.d: directory \/home\/u is owned by uid 65534, not root/);
  });

  it("a trusted chain runs the path it resolved to, named after the listed file", async () => {
    mkdirSync(path.join(root, "usr/libexec"), { recursive: true, mode: 0o755 });
    put("usr/libexec/real.sh", 0o755);
    symlinkSync(
      "../../../../usr/libexec/real.sh",
      path.join(root, "etc/greenboot/check/required.d/04-link.sh"),
    );
    const before = process.env.BOOTWARDEN_ROOT;
    process.env.BOOTWARDEN_ROOT = root;
    try {
      const l = await listScripts("/etc/greenboot/check/required.d");
      expect(l).toEqual({
        problems: [],
        skipped: [],
        scripts: [
          {
            file: "/etc/greenboot/check/required.d/01-repo.sh",
            exec: "/etc/greenboot/check/required.d/01-repo.sh",
          },
          {
            file: "/etc/greenboot/check/required.d/02-probe",
            exec: "/etc/greenboot/check/required.d/02-probe",
          },
          { file: "/etc/greenboot/check/required.d/04-link.sh", exec: "/usr/libexec/real.sh" },
        ],
      });
    } finally {
      if (before === undefined) delete process.env.BOOTWARDEN_ROOT;
      else process.env.BOOTWARDEN_ROOT = before;
    }
  });
});

describe("greenboot's DISABLED_HEALTHCHECKS", () => {
  const withConfig = (extra: string) =>
    writeFileSync(
      path.join(root, "etc/bootwarden/config.yaml"),
      `bootState:\n  backend: grubenv\n  path: /boot/grubenv\nassessment:\n  critical:\n    directories: [/etc/greenboot/check/required.d]\n${extra}`,
    );

  it("the scripts greenboot.conf disables are not run, even one that would be refused", () => {
    mkdirSync(path.join(root, "etc/greenboot"), { recursive: true });
    writeFileSync(
      path.join(root, "etc/greenboot/greenboot.conf"),
      'DISABLED_HEALTHCHECKS=("02-probe" "09-open.sh")\n',
    );
    put("etc/greenboot/check/required.d/09-open.sh", 0o666); // world-writable: refused, were it run
    withConfig("  greenbootConfig: /etc/greenboot/greenboot.conf\n");
    const r = checkConfig();
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(
      /backend grubenv, 1 critical check script\(s\), 2 disabled \(02-probe, 09-open\.sh\)\n$/,
    );
  });

  it("assessment.disabled does the same without greenboot.conf; a greenboot.conf it cannot read disables nothing, with a warning", () => {
    mkdirSync(path.join(root, "etc/greenboot"), { recursive: true });
    writeFileSync(path.join(root, "etc/greenboot/greenboot.conf"), 'DISABLED_HEALTHCHECKS="02-probe"\n');
    withConfig("  disabled: [01-repo.sh]\n  greenbootConfig: /etc/greenboot/greenboot.conf\n");
    const r = checkConfig();
    expect(r.stderr).toBe(
      `bootwarden: warning: /etc/greenboot/greenboot.conf: DISABLED_HEALTHCHECKS="02-probe" is not a bash array ("a.sh" "b.sh"); no check is disabled\n`,
    );
    expect(r.stdout).toMatch(/1 critical check script\(s\), 1 disabled \(01-repo\.sh\)\n$/);
  });
});
