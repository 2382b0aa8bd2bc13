import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BlsBackend } from "../../src/bootstate/bls/backend.js";
import { encodeEfiString, LOADER_GUID } from "../../src/bootstate/bls/efivars.js";
import type { BlsStateConfig } from "../../src/config/schema.js";
import { cli, sh, tempDir, writeConfig } from "../helpers/tools.js";

let dir: string;
let cleanup: () => void;
let esp: string;
let efivars: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  esp = path.join(dir, "esp");
  efivars = path.join(dir, "efivars");
  mkdirSync(path.join(esp, "loader/entries"), { recursive: true });
  mkdirSync(path.join(esp, "EFI/Linux"), { recursive: true });
  mkdirSync(efivars);
});
afterEach(() => cleanup());

const entry = (file: string, body = `title ${file}\nlinux /vmlinuz\n`) =>
  writeFileSync(path.join(esp, file.endsWith(".efi") ? "EFI/Linux" : "loader/entries", file), body);
const efivar = (name: string, value: string | Buffer) =>
  writeFileSync(
    path.join(efivars, `${name}-${LOADER_GUID}`),
    typeof value === "string" ? encodeEfiString(value) : value,
  );
/** What systemd-boot leaves after choosing `before`, renamed to `after` (in loader/entries or EFI/Linux). */
const booted = (before: string, after: string) => {
  efivar("LoaderEntrySelected", before);
  efivar("LoaderBootCountPath", `\\${after.endsWith(".efi") ? "EFI\\Linux" : "loader\\entries"}\\${after}`);
};
const cfg = (extra = "") =>
  writeConfig(dir, `bootState:\n  backend: bls\n  esp: ${esp}\n  efivars: ${efivars}\n${extra}`);
const files = () =>
  [...readdirSync(path.join(esp, "loader/entries")), ...readdirSync(path.join(esp, "EFI/Linux"))].sort();
const ok = (...args: string[]) => {
  const r = cli([...args, "--config", cfg()]);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return r.stdout;
};
const status = () => JSON.parse(ok("status", "--json"));
const refused = (args: string[], pattern: RegExp) => {
  const before = files();
  const r = cli([...args, "--config", cfg()]);
  expect(r.status).not.toBe(0);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(files()).toEqual(before);
};

describe("bls backend", () => {
  it("a counted boot of a Type #1 entry is a trial; mark-good strips the counter once; status agrees", () => {
    entry("a.conf");
    entry("b+1-1.conf");
    booted("b+2.conf", "b+1-1.conf");
    expect(status()).toMatchObject({
      backend: "bls",
      bootedSlot: "b.conf",
      trialBoot: true,
      state: "indeterminate",
      triesLeft: 1,
      slots: [
        { name: "a.conf", booted: false, state: "good" },
        { name: "b.conf", booted: true, state: "indeterminate", detail: { left: 1, done: 1 } },
      ],
    });
    expect(ok("mark-good")).toMatch(/marked b\.conf good: b\+1-1\.conf -> b\.conf/);
    expect(files()).toEqual(["a.conf", "b.conf"]);
    expect(ok("mark-good")).toMatch(/already good, nothing to do/);
    expect(status()).toMatchObject({ bootedSlot: "b.conf", trialBoot: false, state: "good" });
  });

  it("mark-bad makes it +0-DONE, once; the next boot on A reports the failed trial", () => {
    entry("a.conf");
    entry("b+1-1.conf");
    booted("b+2.conf", "b+1-1.conf");
    expect(ok("mark-bad")).toMatch(/marked b\.conf bad: b\+1-1\.conf -> b\+0-1\.conf/);
    expect(ok("mark-bad")).toMatch(/already bad, nothing to do/);
    expect(files()).toEqual(["a.conf", "b+0-1.conf"]);
    // the next boot: the loader picks a.conf, uncounted
    writeFileSync(path.join(efivars, `LoaderBootCountPath-${LOADER_GUID}`), "");
    sh("rm", [path.join(efivars, `LoaderBootCountPath-${LOADER_GUID}`)]);
    efivar("LoaderEntrySelected", "a.conf");
    expect(status()).toMatchObject({
      bootedSlot: "a.conf",
      trialBoot: false,
      state: "good",
      rolledBackFrom: { slot: "b.conf", reason: "b+0-1.conf has no tries left" },
    });
  });

  it("a UKI in EFI/Linux is counted, marked bad and blessed the same way", () => {
    entry("a.conf");
    entry("b+1-1.efi", "MZ");
    booted("b+2.efi", "b+1-1.efi");
    expect(status()).toMatchObject({ bootedSlot: "b.efi", trialBoot: true });
    expect(ok("mark-bad")).toMatch(/b\+1-1\.efi -> b\+0-1\.efi/);
    expect(files()).toEqual(["a.conf", "b+0-1.efi"]);
  });

  it("arm adds +N to an uncounted entry, and warns when a default glob would keep booting it after it went bad", () => {
    entry("a.conf");
    entry("b.conf");
    efivar("LoaderEntrySelected", "a.conf");
    expect(ok("arm", "--slot", "b.conf", "--tries", "3")).toMatch(
      /^armed b\.conf for a trial boot with 3 tries: b\.conf -> b\+3\.conf; systemd-boot starts it next \(sort order\)$/m,
    );
    writeFileSync(path.join(esp, "loader/loader.conf"), "timeout 0\ndefault b*\n");
    expect(ok("arm", "--slot", "b", "--tries", "2")).toMatch(
      /b\+3\.conf -> b\+2\.conf; warning: loader\.conf "default b\*" matches b\+2\.conf: after a failed trial it would keep booting the bad entry/,
    );
  });

  it("next boot by systemd-boot's rules: the sort order, a failed trial last, a glob, @saved, the one-shot", async () => {
    entry("a.conf");
    entry("b+1-1.conf");
    entry("notes.conf", "title no kernel: not in the menu\n");
    booted("b+2.conf", "b+1-1.conf");
    expect(status()).toMatchObject({ bootedSlot: "b.conf", nextBoot: "b.conf" });
    // The daemon's start reads no more than the verdict needs: the next boot only when asked.
    const backend = new BlsBackend({ backend: "bls", esp, efivars, tries: 3 } satisfies BlsStateConfig);
    expect((await backend.read()).nextBoot).toBeUndefined();
    expect((await backend.read({ nextBoot: true })).nextBoot).toBe("b.conf");
    ok("mark-bad");
    expect(status().nextBoot).toBe("a.conf"); // b+0-1: no tries left, last in the menu
    writeFileSync(path.join(esp, "loader/loader.conf"), "default b*\n");
    expect(status().nextBoot).toBe("b.conf"); // the glob matches the failed entry: the trap `arm` warns of
    writeFileSync(path.join(esp, "loader/loader.conf"), "default @saved\n");
    efivar("LoaderEntryLastBooted", "a.conf");
    expect(status().nextBoot).toBe("a.conf");
    efivar("LoaderEntryOneShot", "b+0-1.conf");
    expect(status().nextBoot).toBe("b.conf");
    efivar("LoaderEntryOneShot", Buffer.from([6, 0, 0, 0, 0x41])); // odd length: not UTF-16
    expect(status().nextBoot).toBeUndefined();
  });

  it("UKIs built with objcopy from systemd's stub are ordered by their .osrel: sort key, then version", () => {
    const uki = (file: string, osrel: string) => {
      const txt = path.join(dir, `${file}.osrel`);
      writeFileSync(txt, osrel);
      sh("objcopy", [
        "--add-section",
        `.osrel=${txt}`,
        "--change-section-vma",
        ".osrel=0x20000",
        "/usr/lib/systemd/boot/efi/linuxx64.efi.stub",
        path.join(esp, "EFI/Linux", file),
      ]);
    };
    entry("zzz.conf"); // no sort key: after every UKI that has one
    uki("deb-12.9.efi", 'ID=debian\nVERSION_ID="12.9"\nPRETTY_NAME="Debian 12"\n');
    uki("deb-12.1.efi", "ID=debian\nVERSION_ID=12.1\nNAME=Debian\n");
    uki("deb-12.10+3.efi", "ID=debian\nVERSION_ID='12.10'\nNAME=Debian\n");
    efivar("LoaderEntrySelected", "zzz.conf");
    expect(status().nextBoot).toBe("deb-12.10.efi");
    uki("aaa.efi", "IMAGE_ID=aaa\nIMAGE_VERSION=1\nNAME=A\n"); // sort key aaa before debian
    expect(status().nextBoot).toBe("aaa.efi");
    // Not armed, no version: not in the menu. Then arm: the loader still starts aaa; say so, and how to start b.
    uki("noversion.efi", "ID=debian\nNAME=Debian\n");
    expect(status().slots.map((x: { name: string }) => x.name)).toContain("noversion.efi");
    expect(status().nextBoot).toBe("aaa.efi");
    expect(ok("arm", "--slot", "deb-12.9.efi", "--tries", "2")).toMatch(
      /deb-12\.9\.efi -> deb-12\.9\+2\.efi; warning: systemd-boot starts aaa\.efi next \(sort order\), not this trial; `bootctl set-oneshot deb-12\.9\+2\.efi` starts the trial once$/m,
    );
  });

  it("the unsuffixed twin: blessing leaves exactly one entry of that id, with the booted content", () => {
    entry("a.conf");
    entry("b.conf", "old content\n");
    entry("b+1-1.conf", "booted content\n");
    booted("b+2.conf", "b+1-1.conf");
    expect(ok("mark-good")).toMatch(/replaced its uncounted twin b\.conf/);
    expect(files()).toEqual(["a.conf", "b.conf"]);
    expect(readFileSync(path.join(esp, "loader/entries/b.conf"), "utf8")).toBe("booted content\n");
  });

  it("a stale LoaderBootCountPath (a kexec or soft-reboot since): not counted, nothing renamed", () => {
    entry("a.conf");
    entry("b+0-3.conf");
    booted("b+2.conf", "b+1-1.conf"); // that file is long gone, and b+0-3 is not what we would have made of it
    const s = status();
    expect(s).toMatchObject({ trialBoot: false });
    expect(s.problems[0]).toMatch(
      /LoaderBootCountPath names \\loader\\entries\\b\+1-1\.conf, which does not exist/,
    );
    refused(["mark-good"], /bls: LoaderBootCountPath names .* this boot is not counted, nothing is renamed/);
  });

  it("no LoaderBootCountPath: the boot was not counted; the booted entry comes from LoaderEntrySelected", () => {
    entry("a.conf");
    entry("b+3.conf");
    efivar("LoaderEntrySelected", "a.conf");
    expect(status()).toMatchObject({ bootedSlot: "a.conf", trialBoot: false, state: "good" });
    expect(ok("mark-good")).toMatch(/a\.conf is not counted: already good/);
  });

  it("a malformed efivar is a clear error and nothing is renamed", () => {
    entry("a.conf");
    entry("b+1-1.conf");
    efivar("LoaderEntrySelected", "b+2.conf");
    efivar("LoaderBootCountPath", Buffer.from([7, 0, 0, 0, 0x5c])); // odd length
    refused(
      ["mark-good"],
      /^bootwarden: bls: .*efivars: LoaderBootCountPath: odd length 1: not UTF-16; nothing renamed\n$/,
    );
  });

  it("marking bad the only bootable entry is refused", () => {
    entry("b+1-1.conf");
    booted("b+2.conf", "b+1-1.conf");
    refused(["mark-bad"], /refusing to mark b\.conf bad: no other entry is bootable/);
  });

  it("entries on XBOOTLDR (/boot) beside an ESP at /efi are found without configuration", () => {
    const root = path.join(dir, "root");
    mkdirSync(path.join(root, "efi/EFI/Linux"), { recursive: true });
    mkdirSync(path.join(root, "boot/loader/entries"), { recursive: true });
    mkdirSync(path.join(root, "sys/firmware/efi/efivars"), { recursive: true });
    writeFileSync(path.join(root, "efi/EFI/Linux/a.efi"), "MZ");
    writeFileSync(path.join(root, "boot/loader/entries/b+1-1.conf"), "title b\n");
    const ev = (n: string, v: string) =>
      writeFileSync(path.join(root, `sys/firmware/efi/efivars/${n}-${LOADER_GUID}`), encodeEfiString(v));
    ev("LoaderEntrySelected", "b+2.conf");
    ev("LoaderBootCountPath", "\\loader\\entries\\b+1-1.conf");
    const c = writeConfig(dir, "bootState:\n  backend: bls\n", "x.yaml");
    const r = cli(["status", "--json", "--config", c], { BOOTWARDEN_ROOT: root });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toMatchObject({
      source: "/efi, /boot",
      bootedSlot: "b.conf",
      trialBoot: true,
    });
    expect(cli(["mark-good", "--config", c], { BOOTWARDEN_ROOT: root }).stdout).toMatch(
      /b\+1-1\.conf -> b\.conf/,
    );
    expect(readdirSync(path.join(root, "boot/loader/entries"))).toEqual(["b.conf"]);
  });

  it("a read-only ESP is a clear error with nothing changed (the rename is the only write)", () => {
    entry("a.conf");
    entry("b+1-1.conf");
    booted("b+2.conf", "b+1-1.conf");
    sh("mount", ["--bind", esp, esp]);
    try {
      sh("mount", ["-o", "remount,ro,bind", esp]);
      refused(["mark-good"], /bls: .*loader\/entries: cannot rename b\+1-1\.conf to b\.conf: EROFS/);
    } finally {
      sh("umount", [esp]);
    }
    expect(ok("mark-good")).toMatch(/-> b\.conf/);
  });
});

describe("bls: what systemd-boot does with odd names and states", () => {
  it("an entry the loader booted with no tries left (+0-1 -> +0-2) that fails is no slot left: nothing renamed", () => {
    entry("a+0-3.conf");
    entry("b+0-2.conf");
    booted("b+0-1.conf", "b+0-2.conf");
    expect(status()).toMatchObject({ bootedSlot: "b.conf", trialBoot: true, triesLeft: 0 });
    refused(
      ["mark-bad"],
      /^bootwarden: bls: b\.conf was booted with no tries left \(b\+0-2\.conf\): marking it bad changes nothing, no entry is left to fall back to\n$/,
    );
  });

  it("the last try (+1-1 -> +0-2, and +1 -> +0-1) is a trial with a fallback: mark-bad is already done, not refused", () => {
    entry("a.conf");
    entry("b+0-2.conf");
    booted("b+1-1.conf", "b+0-2.conf");
    expect(status()).toMatchObject({ bootedSlot: "b.conf", trialBoot: true, triesLeft: 0, triesDone: 2 });
    expect(ok("mark-bad")).toMatch(/^b\.conf has no tries left: already bad, nothing to do\n$/);
    expect(files()).toEqual(["a.conf", "b+0-2.conf"]);
    sh("mv", [path.join(esp, "loader/entries/b+0-2.conf"), path.join(esp, "loader/entries/b+0-1.conf")]);
    booted("b+1.conf", "b+0-1.conf");
    expect(ok("mark-bad")).toMatch(/already bad, nothing to do/);
  });

  it("a loader.conf default naming the counted entry (Kairos' `default active+3.conf`) follows it when blessed", () => {
    const conf = path.join(esp, "loader/loader.conf");
    entry("passive.conf");
    entry("active+2-1.conf");
    booted("active+3.conf", "active+2-1.conf");
    writeFileSync(conf, "timeout 0\ndefault active+3.conf\neditor no\n");
    expect(ok("mark-good")).toMatch(
      /^marked active\.conf good: active\+2-1\.conf -> active\.conf; loader\.conf default active\+3\.conf -> active\.conf\n$/,
    );
    expect(readFileSync(conf, "utf8")).toBe("timeout 0\ndefault active.conf\neditor no\n");
    // Another entry's default, or a glob, is none of ours: left as it is.
    for (const d of ["passive.conf", "active*"]) {
      entry("active+2-1.conf");
      sh("rm", [path.join(esp, "loader/entries/active.conf")]);
      writeFileSync(conf, `default ${d}\n`);
      ok("mark-good");
      expect(readFileSync(conf, "utf8")).toBe(`default ${d}\n`);
    }
  });

  it("the same counted name on the ESP and on XBOOTLDR is refused, naming both; nothing renamed", () => {
    const root = path.join(dir, "root");
    for (const d of ["efi/loader/entries", "boot/loader/entries", "sys/firmware/efi/efivars"])
      mkdirSync(path.join(root, d), { recursive: true });
    writeFileSync(path.join(root, "efi/loader/entries/a.conf"), "title a\n");
    writeFileSync(path.join(root, "efi/loader/entries/b+1-1.conf"), "title b on the ESP\n");
    writeFileSync(path.join(root, "boot/loader/entries/b+1-1.conf"), "title b on XBOOTLDR\n");
    const ev = (n: string, v: string) =>
      writeFileSync(path.join(root, `sys/firmware/efi/efivars/${n}-${LOADER_GUID}`), encodeEfiString(v));
    ev("LoaderEntrySelected", "b+2.conf");
    ev("LoaderBootCountPath", "\\loader\\entries\\b+1-1.conf");
    const c = writeConfig(dir, "bootState:\n  backend: bls\n", "twins.yaml");
    for (const cmd of ["mark-bad", "mark-good", "status"]) {
      const r = cli([cmd, "--config", c], { BOOTWARDEN_ROOT: root });
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(
        "bootwarden: bls: LoaderBootCountPath \\loader\\entries\\b+1-1.conf names both /efi/loader/entries/b+1-1.conf and /boot/loader/entries/b+1-1.conf; remove one, nothing renamed\n",
      );
    }
    expect(readdirSync(path.join(root, "efi/loader/entries"))).toEqual(["a.conf", "b+1-1.conf"]);
    expect(readdirSync(path.join(root, "boot/loader/entries"))).toEqual(["b+1-1.conf"]);
  });

  it("the reboot-loop guard knows an entry by its id: `b` and `b.conf` are one slot", () => {
    const root = path.join(dir, "root");
    for (const d of ["efi/loader/entries", "sys/firmware/efi/efivars", "var/lib/bootwarden"])
      mkdirSync(path.join(root, d), { recursive: true });
    writeFileSync(path.join(root, "efi/loader/entries/a.conf"), "title a\n");
    writeFileSync(path.join(root, "efi/loader/entries/b.conf"), "title b\n");
    writeFileSync(
      path.join(root, "var/lib/bootwarden/trials.json"),
      JSON.stringify({ "b.conf": { failures: 3, lastReason: "unit:app.service failed" } }),
    );
    const c = writeConfig(dir, "bootState:\n  backend: bls\n", "loop.yaml");
    for (const slot of ["b", "b.conf", "B.CONF"]) {
      const r = cli(["arm", "--slot", slot, "--config", c], { BOOTWARDEN_ROOT: root });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/refusing to arm .*: its trial failed 3 times since it was last blessed/);
    }
    expect(readdirSync(path.join(root, "efi/loader/entries"))).toEqual(["a.conf", "b.conf"]);
  });

  it("an entry whose blessed name would still be counted (x+1+1.conf -> x+1.conf) is not armed", () => {
    entry("a.conf");
    efivar("LoaderEntrySelected", "a.conf");
    entry("y+1+2.conf"); // the entry y+1.conf, counted; blessed it would be y+1.conf, counted again
    refused(
      ["arm", "--slot", "y+1+2.conf", "--tries", "2"],
      /refusing to arm y\+1\+2\.conf: blessed it would be y\+1\.conf, which the boot loader still reads as counted/,
    );
  });
});
