import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { confirmMarkGood } from "../../src/actions/confirm-mark.js";
import { readEnvFile } from "../../src/bootstate/grubenv/file.js";
import { createBackend } from "../../src/bootstate/registry.js";
import { configSchema } from "../../src/config/schema.js";
import { hastyClock, memoryLogger } from "../fakes/fake-ports.js";
import { cli, requireTool, sh, tempDir, writeConfig } from "../helpers/tools.js";

// Needs grub-editenv (Debian: grub-common); .ci/run installs it.
let dir: string;
let cleanup: () => void;
let env: string;
const hash = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");
const editenv = (...args: string[]) => sh("grub-editenv", [env, ...args]);
const list = () =>
  Object.fromEntries(
    editenv("list")
      .split("\n")
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
const config = (scheme: string, extra = "") =>
  writeConfig(dir, `bootState:\n  backend: grubenv\n  path: ${env}\n  scheme: ${scheme}\n${extra}`);
const run = (...args: string[]) => {
  const r = cli(args);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return r.stdout;
};
const status = (cfg: string) => JSON.parse(run("status", "--json", "--config", cfg));

beforeAll(() => requireTool("grub-editenv"));
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  env = path.join(dir, "grubenv");
  sh("grub-editenv", [env, "create"]);
  editenv("set", "saved_entry=Debian GNU/Linux, with Linux 6.1", "menu_auto_hide=1");
});
afterEach(() => cleanup());

describe("grubenv greenboot scheme against grub-editenv", () => {
  it("arms, sees the trial after GRUB counted it, blesses once, and keeps every other variable", () => {
    const cfg = config("greenboot");
    expect(status(cfg)).toMatchObject({ backend: "grubenv", trialBoot: false, state: "good" });
    run("arm", "--tries", "3", "--config", cfg);
    expect(list()).toMatchObject({ boot_counter: "3", boot_success: "0" });
    editenv("set", "boot_counter=2"); // GRUB counted one boot
    expect(status(cfg)).toMatchObject({
      bootedSlot: "default",
      trialBoot: true,
      state: "indeterminate",
      triesLeft: 2,
    });
    run("mark-good", "--config", cfg);
    const after = list();
    expect(after.boot_success).toBe("1");
    expect(after.boot_counter).toBeUndefined();
    expect(after.saved_entry).toBe("Debian GNU/Linux, with Linux 6.1");
    expect(after.menu_auto_hide).toBe("1");
    expect(statSync(env).size).toBe(1024);
    const before = hash(env);
    expect(run("mark-good", "--config", cfg)).toMatch(/nothing to do/);
    expect(hash(env)).toBe(before);
  });

  it("marks a trial bad (counter 0) and recognises the fallback boot that follows", () => {
    const cfg = config("greenboot");
    run("arm", "--config", cfg);
    run("mark-bad", "--config", cfg);
    expect(list()).toMatchObject({ boot_counter: "0", boot_success: "0" });
    editenv("set", "boot_counter=-1"); // GRUB took the fallback entry
    expect(status(cfg)).toMatchObject({
      bootedSlot: "fallback",
      trialBoot: false,
      rolledBackFrom: { slot: "default" },
    });
  });

  it("keeps values with backslashes and newlines the way grub-editenv wrote them", () => {
    editenv("set", "odd=a\\b", "kernelopts=root=/dev/sda1 ro");
    const raw = readFileSync(env, "latin1");
    run("arm", "--config", config("greenboot"));
    const out = readFileSync(env, "latin1");
    // everything grub-editenv wrote before our variables is still there, byte for byte
    const ours = raw.replace(/#+$/, "");
    expect(out.startsWith(ours)).toBe(true);
    expect(list()).toMatchObject({ odd: "a\\b", kernelopts: "root=/dev/sda1 ro" });
  });

  describe("bad input changes nothing", () => {
    const refused = (mutate: () => void, pattern: RegExp) => {
      mutate();
      const before = hash(env);
      for (const cmd of ["status", "mark-good", "mark-bad", "arm"]) {
        const r = cli([cmd, "--config", config("greenboot")]);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(pattern);
        expect(hash(env)).toBe(before);
      }
    };
    it("wrong size", () =>
      refused(
        () => writeFileSync(env, readFileSync(env).subarray(0, 1000)),
        /corrupt environment block: size is 1000 bytes/,
      ));
    it("missing signature", () =>
      refused(
        () => writeFileSync(env, Buffer.from("# Not GRUB\n".padEnd(1024, "#"))),
        /missing signature line/,
      ));
    it("missing file", () => {
      const r = cli([
        "status",
        "--config",
        writeConfig(dir, `bootState:\n  backend: grubenv\n  path: ${dir}/none\n`),
      ]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/grubenv: .*none: cannot read: ENOENT/);
    });
    it("an environment too full for the new variables", () => {
      editenv("set", `filler=${"x".repeat(850)}`);
      const before = hash(env);
      const r = cli(["arm", "--config", config("greenboot")]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/block holds 1024/);
      expect(hash(env)).toBe(before);
    });
  });
});

describe("grubenv read while grub-editenv rewrites it", () => {
  it("never calls the block corrupt: grub-editenv truncates it, then writes it, with no lock", async () => {
    const writer = spawn("sh", ["-c", `for i in $(seq 1 400); do grub-editenv ${env} set n=$i; done`], {
      stdio: "ignore",
    });
    const done = new Promise<number | null>((r) => writer.on("exit", r));
    let running = true;
    void done.then(() => (running = false));
    const failures: string[] = [];
    let reads = 0;
    while (running) {
      reads++;
      await readEnvFile(env, "grubenv").catch((e: Error) => failures.push(e.message));
    }
    expect(await done).toBe(0);
    expect(reads).toBeGreaterThan(100);
    expect(failures).toEqual([]);
    expect(list().n).toBe("400");
  });
});

describe("a mark good that another grubenv writer undid", () => {
  it("is made again when read back, and the other writer's own change is kept", async () => {
    const backend = createBackend(
      configSchema.parse({ bootState: { backend: "grubenv", path: env, scheme: "greenboot" } }).bootState,
    );
    editenv("set", "boot_counter=2", "boot_success=0"); // a trial, one boot counted
    const stale = readFileSync(env);
    const first = await backend.markGood();
    expect(first.changed).toBe(true);
    expect(list().boot_success).toBe("1");
    // A tool without a lock (grub2-set-bootflag, a script's grub-editenv) read the block before the mark and writes
    // it back after it, with its own change: grub-editenv's own write, in place, over the stale block.
    writeFileSync(env, stale);
    editenv("set", "menu_show_once=1");
    expect(list()).toMatchObject({ boot_counter: "2", boot_success: "0" });
    const { log, records } = memoryLogger();
    await confirmMarkGood({ backend, log, clock: hastyClock }, { slot: "default", id: "default" });
    const after = list();
    expect(after.boot_success).toBe("1");
    expect(after.boot_counter).toBeUndefined();
    expect(after.menu_show_once).toBe("1");
    expect(after.saved_entry).toBe("Debian GNU/Linux, with Linux 6.1");
    expect(records.map((r) => r.msg)).toEqual([
      `slot default: another writer of ${env} undid the mark good (the slot was in its trial state again 2 s later); marked the boot good in ${env} (greenboot)`,
    ]);
  });
});

describe("grubenv kairos scheme", () => {
  it("follows Kairos' sentinels: arm, tentative set by GRUB, bless clears them, fallback is seen", () => {
    const cmdline = path.join(dir, "cmdline");
    writeFileSync(cmdline, "BOOT_IMAGE=/boot/vmlinuz cos-img/filename=/cOS/active.img\n");
    const cfg = config("kairos", `  cmdline: ${cmdline}\n`);
    run("arm", "--config", cfg);
    expect(list()).toMatchObject({ enable_boot_assessment: "yes", boot_assessment_tentative: "" });
    editenv("set", "boot_assessment_tentative=yes"); // GRUB's first pass
    expect(status(cfg)).toMatchObject({ bootedSlot: "active", trialBoot: true });
    run("mark-good", "--config", cfg);
    expect(list()).toMatchObject({ enable_boot_assessment: "", boot_assessment_tentative: "" });
    expect(status(cfg)).toMatchObject({ trialBoot: false, state: "good" });
    // a failed upgrade: GRUB saw tentative=yes again and booted fallback with upgrade_failure
    run("arm", "--config", cfg);
    run("mark-bad", "--config", cfg);
    expect(list()).toMatchObject({ enable_boot_assessment: "yes", boot_assessment_tentative: "yes" });
    writeFileSync(cmdline, "BOOT_IMAGE=/boot/vmlinuz cos-img/filename=/cOS/passive.img upgrade_failure\n");
    expect(status(cfg)).toMatchObject({
      bootedSlot: "fallback",
      trialBoot: false,
      rolledBackFrom: { slot: "active" },
    });
  });
});
