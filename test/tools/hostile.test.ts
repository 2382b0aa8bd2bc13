// The adversarial cases of the reliability issue, one test per defect, against the real CLI and real tools.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { crc32 } from "node:zlib";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  CLI,
  cgptAttrs,
  cli,
  makeFlatcarDisk,
  requireTool,
  sgdiskVerify,
  sh,
  tempDir,
  writeConfig,
} from "../helpers/tools.js";

let dir: string;
let cleanup: () => void;
let disk: string;
const hash = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");
const gptConfig = (booted: string, extra = "") =>
  writeConfig(
    dir,
    `bootState:\n  backend: gpt\n  disk: ${disk}\n  booted: ${booted}\n${extra}`,
    `gpt-${booted.slice(-5)}.yaml`,
  );
const cliAsync = (args: string[], env: Record<string, string> = {}) =>
  new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ status: code ?? -1, stdout, stderr }));
  });
/** Both copies of the entry array, byte for byte (primary at LBA 2, backup 32 sectors before the last). */
const copies = () => {
  const b = readFileSync(disk);
  return [b.subarray(1024, 1024 + 16384), b.subarray(b.length - 512 - 16384, b.length - 512)];
};
/** Re-stamps both headers' entry-array and header CRCs after an edit of the arrays (a valid but hostile table). */
const restamp = (b: Buffer) => {
  for (const [hdr, arr] of [
    [512, 1024],
    [b.length - 512, b.length - 512 - 16384],
  ]) {
    b.writeUInt32LE(crc32(b.subarray(arr!, arr! + 16384)), hdr! + 88);
    b.writeUInt32LE(0, hdr! + 16);
    b.writeUInt32LE(crc32(b.subarray(hdr!, hdr! + 92)), hdr! + 16);
  }
};
const expectRefused = (r: { status: number; stderr: string }, pattern: RegExp) => {
  expect(r.status).not.toBe(0);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
};

beforeAll(() => {
  for (const t of ["cgpt", "sgdisk", "flock", "grub-editenv"]) requireTool(t);
});
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  disk = path.join(dir, "disk.img");
  makeFlatcarDisk(disk);
});
afterEach(() => cleanup());

describe("concurrent writers", () => {
  it("32 parallel arm / mark-good / mark-bad on one image: both copies intact and equal, a serial outcome", {
    timeout: 240_000,
  }, async () => {
    const onA = gptConfig("PARTLABEL=USR-A");
    const onB = gptConfig("PARTLABEL=USR-B");
    const jobs: Promise<{ status: number; stderr: string }>[] = [];
    for (let i = 0; i < 32; i++) {
      const args =
        i % 4 === 0
          ? ["mark-good", "--config", onA]
          : i % 4 === 1
            ? ["mark-bad", "--config", onB]
            : ["arm", "--slot", "PARTLABEL=USR-B", "--tries", String((i % 7) + 1), "--config", onA];
      jobs.push(cliAsync(args, { BOOTWARDEN_LOCK_WAIT_MS: "60000" }));
    }
    const results = await Promise.all(jobs);
    for (const r of results) expect(r.stderr).toBe("");
    const v = sgdiskVerify(disk);
    expect(v).toMatch(/^No problems found/m);
    expect(v).not.toMatch(/corrupt/);
    const [primary, backup] = copies();
    expect(primary!.equals(backup!)).toBe(true);
    // What every serial order of these operations leaves: A good, B either marked bad (P0 T0) or armed with the
    // tries of one of the arms, and two distinct priorities (cgpt prioritize never ties the chosen slot).
    const a = cgptAttrs(disk, 1);
    const b = cgptAttrs(disk, 2);
    expect(a.successful && a.priority >= 1).toBe(true);
    expect(b.successful).toBe(false);
    expect(b.priority === 0 ? b.tries === 0 : b.tries >= 1 && b.tries <= 7 && b.priority !== a.priority).toBe(
      true,
    );
  });

  it("a writer that cannot get the lock in time says who holds it and writes nothing", () => {
    // bootwarden's own lock file, under the test's root: only another root process can hold it.
    const lock = path.join(dir, "run/bootwarden/boot-state.lock");
    mkdirSync(path.dirname(lock), { recursive: true });
    writeFileSync(lock, "", { mode: 0o600 });
    const holder = spawn("flock", ["--exclusive", lock, "sleep", "20"], { stdio: "ignore" });
    try {
      spawnSync("sleep", ["0.3"]);
      const before = hash(disk);
      const cfg = writeConfig(
        dir,
        "bootState:\n  backend: gpt\n  disk: /disk.img\n  booted: PARTLABEL=USR-A\n",
        "held.yaml",
      );
      const r = cli(["arm", "--slot", "PARTLABEL=USR-B", "--config", cfg], {
        BOOTWARDEN_LOCK_WAIT_MS: "500",
        BOOTWARDEN_ROOT: dir,
      });
      expectRefused(
        r,
        /gpt: \/disk\.img: bootwarden's lock \/run\/bootwarden\/boot-state\.lock is held by another writer after 0\.5s \(held by pid \d+: flock --exclusive .*sleep 20/,
      );
      expect(hash(disk)).toBe(before);
    } finally {
      holder.kill();
    }
  });
});

describe("a read overlapping a write", () => {
  it("both copies invalid while another writer holds the lock: read again under it, not refused as corrupt", () => {
    const lock = path.join(dir, "run/bootwarden/boot-state.lock");
    mkdirSync(path.dirname(lock), { recursive: true });
    writeFileSync(lock, "", { mode: 0o600 });
    // What a reader can see halfway through two writes (each rewrites the backup, then the primary): both entry
    // arrays changed under their headers. The holder puts the finished table back, then lets go of the lock.
    const good = path.join(dir, "good.img");
    writeFileSync(good, readFileSync(disk));
    const torn = readFileSync(disk);
    for (const arr of [1024, torn.length - 512 - 16384]) torn[arr + 56] = torn[arr + 56]! ^ 0xff; // the first entry's name: the array's CRC no longer matches
    writeFileSync(disk, torn);
    expect(() => sh("cgpt", ["show", disk])).toThrow();
    const holder = spawn("flock", ["--exclusive", lock, "sh", "-c", `sleep 1; cp ${good} ${disk}`], {
      stdio: "ignore",
    });
    try {
      spawnSync("sleep", ["0.3"]);
      const cfg = writeConfig(
        dir,
        "bootState:\n  backend: gpt\n  disk: /disk.img\n  booted: PARTLABEL=USR-A\n",
        "torn.yaml",
      );
      const r = cli(["arm", "--slot", "PARTLABEL=USR-B", "--tries", "2", "--config", cfg], {
        BOOTWARDEN_ROOT: dir,
      });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(cgptAttrs(disk, 2)).toMatchObject({ tries: 2, successful: false });
    } finally {
      holder.kill();
    }
  });
});

describe("slot references and fallbacks", () => {
  it("an ambiguous PARTLABEL is refused, naming both partitions; nothing is written", () => {
    sh("sgdisk", ["-c", "3:USR-B", disk]);
    const before = hash(disk);
    expectRefused(
      cli(["arm", "--slot", "PARTLABEL=USR-B", "--config", gptConfig("PARTLABEL=USR-A")]),
      /gpt: .*disk\.img: PARTLABEL=USR-B names partitions 2 and 3; use PARTUUID=/,
    );
    expect(hash(disk)).toBe(before);
  });

  it("arming the only good slot is refused (no fallback left) unless --force", () => {
    const cfg = gptConfig("PARTLABEL=USR-A");
    const before = hash(disk);
    expectRefused(
      cli(["arm", "--slot", "PARTLABEL=USR-A", "--config", cfg]),
      /refusing to arm PARTLABEL=USR-A: no other slot is marked good to fall back to \(--force to arm anyway\)/,
    );
    expect(hash(disk)).toBe(before);
    const r = cli(["arm", "--slot", "PARTLABEL=USR-A", "--force", "--config", cfg]);
    expect(r.stderr).toBe("");
    expect(cgptAttrs(disk, 1)).toEqual({ priority: 1, tries: 1, successful: false });
  });
});

describe("reboot-loop protection", () => {
  it("a slot whose trial failed maxFailedTrials times is not armed again without --force, by any name", () => {
    // Paths inside BOOTWARDEN_ROOT: the state directory, the disk and the config all under `dir`.
    mkdirSync(path.join(dir, "var/lib/bootwarden"), { recursive: true });
    const uuid = sh("cgpt", ["show", "-i", "2", "-u", disk]).trim().toLowerCase();
    writeFileSync(
      path.join(dir, "var/lib/bootwarden/trials.json"),
      JSON.stringify({
        [`PARTUUID=${uuid}`]: { failures: 2, lastReason: "unit:app.service failed", lastAt: "t" },
      }),
    );
    const cfg = writeConfig(
      dir,
      "bootState:\n  backend: gpt\n  disk: /disk.img\n  booted: PARTLABEL=USR-A\nassessment:\n  maxFailedTrials: 2\n",
      "loop.yaml",
    );
    const env = { BOOTWARDEN_ROOT: dir };
    const before = hash(disk);
    expectRefused(
      cli(["arm", "--slot", "PARTLABEL=USR-B", "--config", cfg], env),
      /refusing to arm PARTLABEL=USR-B: its trial failed 2 times since it was last blessed \(last: unit:app\.service failed\); --force/,
    );
    expect(hash(disk)).toBe(before);
    // The same partition by its UUID (in capitals, as blkid may print it) is the same slot.
    expectRefused(
      cli(["arm", "--slot", `PARTUUID=${uuid.toUpperCase()}`, "--config", cfg], env),
      /refusing to arm PARTUUID=.*: its trial failed 2 times since it was last blessed/,
    );
    expect(hash(disk)).toBe(before);
    const r = cli(["arm", "--slot", "PARTLABEL=USR-B", "--force", "--config", cfg], env);
    expect(r.stderr).toBe("");
    expect(cgptAttrs(disk, 2)).toMatchObject({ tries: 1, successful: false });
    // An operator's blessing of B starts its count over, as the daemon's does.
    const onB = writeConfig(
      dir,
      "bootState:\n  backend: gpt\n  disk: /disk.img\n  booted: PARTLABEL=USR-B\nassessment:\n  maxFailedTrials: 2\n",
      "on-b.yaml",
    );
    expect(cli(["mark-good", "--config", onB], env).status).toBe(0);
    expect(JSON.parse(readFileSync(path.join(dir, "var/lib/bootwarden/trials.json"), "utf8"))).toMatchObject({
      [`PARTUUID=${uuid}`]: { failures: 0 },
    });
  });
});

describe("hostile and odd disks", () => {
  it("a FIFO as the disk is refused at once, without hanging", () => {
    const fifo = path.join(dir, "fifo");
    sh("mkfifo", [fifo]);
    const cfg = writeConfig(dir, `bootState:\n  backend: gpt\n  disk: ${fifo}\n  booted: PARTLABEL=USR-A\n`);
    const r = spawnSync(process.execPath, [CLI, "status", "--config", cfg], {
      encoding: "utf8",
      timeout: 10_000,
    });
    expect(r.signal).toBeNull();
    expectRefused(
      { status: r.status ?? -1, stderr: r.stderr },
      /gpt: .*fifo: not a block device or image file/,
    );
  });

  it("a 4096-byte-sector image whose primary header is damaged is read from its backup and repaired", () => {
    const img = path.join(dir, "4kn.img");
    sh("truncate", ["-s", "64M", img]);
    const lo = sh("losetup", ["-f", "--show", "-b", "4096", img]).trim();
    try {
      sh("sgdisk", ["-n", "1:0:+16M", "-t", "1:5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6", "-c", "1:USR-A", lo]);
      sh("sgdisk", ["-n", "2:0:+16M", "-t", "2:5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6", "-c", "2:USR-B", lo]);
      sh("cgpt", ["add", "-i", "1", "-P", "1", "-S", "1", lo]);
    } finally {
      sh("losetup", ["-d", lo]);
    }
    const buf = readFileSync(img);
    buf.write("XXXXXXXX", 4096, "latin1"); // the primary header's signature
    writeFileSync(img, buf);
    const cfg = writeConfig(
      dir,
      `bootState:\n  backend: gpt\n  disk: ${img}\n  booted: PARTLABEL=USR-A\n`,
      "4kn.yaml",
    );
    const s = JSON.parse(cli(["status", "--json", "--config", cfg]).stdout);
    expect(s).toMatchObject({ bootedSlot: "PARTLABEL=USR-A", state: "good" });
    expect(s.problems[0]).toMatch(/^primary GPT is damaged \(bad signature/);
    const r = cli(["arm", "--slot", "PARTLABEL=USR-B", "--config", cfg]);
    expect(r.stderr).toBe("");
    expect(readFileSync(img).toString("latin1", 4096, 4104)).toBe("EFI PART");
    expect(readFileSync(img).toString("latin1", 512, 520)).not.toBe("EFI PART");
  });

  it("a table with overlapping partitions is not written", () => {
    // Partition 3 (ROOT) moved to start inside USR-B.
    const b = readFileSync(disk);
    const e3 = 1024 + 2 * 128;
    const start = b.readBigUInt64LE(1024 + 128 + 32);
    for (const base of [1024, b.length - 512 - 16384]) b.writeBigUInt64LE(start + 8n, base - 1024 + e3 + 32);
    restamp(b);
    writeFileSync(disk, b);
    const before = hash(disk);
    expectRefused(
      cli(["arm", "--slot", "PARTLABEL=USR-B", "--config", gptConfig("PARTLABEL=USR-A")]),
      /refusing to write: partitions 2 and 3 overlap/,
    );
    expect(hash(disk)).toBe(before);
  });
});

describe("grubenv through symlinks, with owners, under concurrency", () => {
  let env: string;
  let link: string;
  const cfg = () => writeConfig(dir, `bootState:\n  backend: grubenv\n  path: ${link}\n`, "env.yaml");
  beforeEach(() => {
    mkdirSync(path.join(dir, "real"));
    env = path.join(dir, "real/grubenv");
    link = path.join(dir, "grubenv");
    sh("grub-editenv", [env, "create"]);
    symlinkSync("real/grubenv", link);
  });

  it("a grubenv reached through a symlink is updated in place of its target; the link stays; owner and mode kept", () => {
    chownSync(env, 1234, 5678);
    chmodSync(env, 0o600);
    const r = cli(["arm", "--tries", "3", "--config", cfg()]);
    expect(r.stderr).toBe("");
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe("real/grubenv");
    expect(sh("grub-editenv", [env, "list"])).toMatch(/^boot_counter=3$/m);
    const st = statSync(env);
    expect([st.uid, st.gid, st.mode & 0o7777, st.size]).toEqual([1234, 5678, 0o600, 1024]);
  });

  it("30 parallel writers: the file is never missing or short, and ends valid", {
    timeout: 240_000,
  }, async () => {
    const c = cfg();
    let done = false;
    const seen = new Set<number>();
    const watcher = (async () => {
      while (!done) {
        try {
          seen.add(statSync(link).size);
        } catch {
          seen.add(-1);
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    const jobs = Array.from({ length: 30 }, (_, i) =>
      cliAsync(
        i % 2 ? ["mark-good", "--config", c] : ["arm", "--tries", String((i % 9) + 1), "--config", c],
        {
          BOOTWARDEN_LOCK_WAIT_MS: "60000",
        },
      ),
    );
    const results = await Promise.all(jobs);
    done = true;
    await watcher;
    for (const r of results) expect(r.stderr).toBe("");
    expect([...seen]).toEqual([1024]);
    expect(sh("grub-editenv", [env, "list"])).toMatch(/boot_success=/);
  });
});

describe("configurations a timer or a parser cannot honour", () => {
  const check = (yaml: string, name = "config.yaml") =>
    cli(["check-config", "--config", writeConfig(dir, yaml, name)]);
  it.each([
    [
      "assessment:\n  deadline: 720h\n",
      /assessment\.deadline: "720h" is out of range: must be 5s to 24h0m0s/,
    ],
    [
      "assessment:\n  deadline: 1e308\n",
      /assessment\.deadline: 1e\+308 is out of range: must be 5s to 24h0m0s/,
    ],
    ["hooks:\n  timeout: 0\n", /hooks\.timeout: 0 is out of range: must be 1s to 1h0m0s/],
    ["hooks:\n  timeout: 30d\n", /hooks\.timeout: not a duration: "30d"/],
    ["assessment:\n  settle: 2h\n", /assessment\.settle: "2h" is out of range/],
    ["assessment: !!set {a, b}\n", /config\.yaml:1: YAML tag tag:yaml\.org,2002:set is not allowed/],
    ["bootState:\n  __proto__:\n    backend: grubenv\n", /config\.yaml:2: key "__proto__" is not allowed/],
    ["assessment:\n  critical:\n    constructor: 1\n", /key "constructor" is not allowed/],
  ])("%j is refused with one line naming the file and key", (yaml, pattern) => {
    const r = check(yaml);
    expectRefused(r, pattern);
    expect(r.stderr).toMatch(/config\.yaml/);
  });

  it("an alias bomb is refused and names the file", () => {
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++)
      lines.push(
        `${"abcdefghij"[i]}: &${"abcdefghij"[i]} [${Array(10)
          .fill(`*${"abcdefghij"[i - 1]}`)
          .join(", ")}]`,
      );
    const r = check(`${lines.join("\n")}\n`, "bomb.yaml");
    expectRefused(r, /config: .*bomb\.yaml: invalid YAML: .*alias/i);
  });

  it("__proto__ in a config.d drop-in is refused and its values never applied", () => {
    mkdirSync(path.join(dir, "etc/bootwarden/config.d"), { recursive: true });
    writeFileSync(
      path.join(dir, "etc/bootwarden/config.d/50-evil.yaml"),
      "__proto__:\n  assessment:\n    action: report\n",
    );
    const r = cli(["check-config"], { BOOTWARDEN_ROOT: dir });
    expectRefused(r, /config\.d\/50-evil\.yaml:1: key "__proto__" is not allowed/);
  });
});

describe("flag paths other users control", () => {
  const check = (flag: string, extra = "") =>
    cli([
      "check-config",
      "--config",
      writeConfig(dir, `assessment:\n  critical:\n    flags: [${flag}]\n${extra}`, "flags.yaml"),
    ]);

  it.each([
    ["/tmp/app-ready", /\/tmp\/app-ready: under \/tmp/],
    ["/dev/shm/app-ready", /\/dev\/shm is writable by every user/],
  ])("%s is refused (exit 78) unless allowUntrustedFlagPaths", (flag, pattern) => {
    const r = check(flag);
    expect(r.status).toBe(78);
    expect(r.stderr).toMatch(pattern);
    const ok = check(flag, "  allowUntrustedFlagPaths: true\n");
    expect(ok.status).toBe(0);
    expect(ok.stderr).toMatch(/warning: flag path other users can write/);
  });

  it("a flag under a directory owned by another user is refused", () => {
    // Outside /tmp, which is refused for its own reason.
    const d = `/run/bootwarden-test-user-owned-${process.pid}`;
    mkdirSync(d, { recursive: true });
    chownSync(d, 1000, 1000);
    try {
      expect(check(`${d}/ready`).stderr).toMatch(/user-owned-\d+ is owned by uid 1000, not root/);
    } finally {
      rmSync(d, { recursive: true });
    }
  });

  it("flags under /run/<service> are accepted", () => {
    expect(check("/run/myapp/ready").status).toBe(0);
  });
});

describe("planted files and damaged records: one line, never a hang or a stack trace", () => {
  const root = () => {
    for (const d of ["etc/bootwarden/config.d", "boot/grub", "run/bootwarden", "var/lib/bootwarden"])
      mkdirSync(path.join(dir, d), { recursive: true });
    writeFileSync(
      path.join(dir, "etc/bootwarden/config.yaml"),
      "bootState:\n  backend: grubenv\n  path: /boot/grub/grubenv\n",
    );
    sh("grub-editenv", [path.join(dir, "boot/grub/grubenv"), "set", "boot_counter=2", "boot_success=0"]);
    return { BOOTWARDEN_ROOT: dir };
  };
  const oneLine = (r: { status: number; stderr: string }, status: number, pattern: RegExp) => {
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.status).toBe(status);
  };

  it("a FIFO as the grubenv: status, mark-good and check-config each say so at once", () => {
    const env = root();
    const env_ = path.join(dir, "boot/grub/grubenv");
    rmSync(env_);
    sh("mkfifo", [env_]);
    for (const cmd of [["status"], ["mark-good"]])
      oneLine(
        cli(cmd, env, 10_000),
        1,
        /grubenv: \/boot\/grub\/grubenv: cannot read: not a regular file \(a fifo\)/,
      );
    expect(cli(["check-config"], env, 10_000).status).not.toBe(-1);
  });

  it("a FIFO as a config.d drop-in: check-config names it at once", () => {
    const env = root();
    sh("mkfifo", [path.join(dir, "etc/bootwarden/config.d/50-x.yaml")]);
    oneLine(
      cli(["check-config"], env, 10_000),
      78,
      /config: \/etc\/bootwarden\/config\.d\/50-x\.yaml: cannot read: not a regular file \(a fifo\)/,
    );
  });

  it('`wait` with "done": 5 in status.json says the record is damaged and keeps waiting, no TypeError', () => {
    const env = root();
    writeFileSync(
      path.join(dir, "run/bootwarden/status.json"),
      JSON.stringify({ phase: "verdict", updatedAt: "", pid: 1, done: 5, notes: [], slot: "default" }),
    );
    const r = cli(["wait"], env, 3000);
    expect(r.status).toBe(-1); // still waiting when killed: nothing to wait on yet
    expect(r.stderr).toMatch(
      /^bootwarden: .*\/run\/bootwarden\/status\.json: not a status record of bootwarden's; waiting for the daemon to rewrite it\n/,
    );
    expect(r.stderr).not.toMatch(/TypeError/);
  });

  it("a damaged status.json and history.json: status and history say so in one line and show the rest", () => {
    const env = root();
    writeFileSync(path.join(dir, "run/bootwarden/status.json"), '{"phase": "assessing", "assessment": 7}');
    writeFileSync(path.join(dir, "var/lib/bootwarden/history.json"), '[{"boot": 5}]');
    const s = cli(["status"], env);
    oneLine(s, 0, /status\.json: not a status record of bootwarden's; the live assessment is not shown/);
    expect(s.stdout).toMatch(/^bootwarden \S+: grubenv /);
    const h = cli(["history"], env);
    oneLine(h, 0, /history\.json: 1 damaged record dropped; showing what could be read/);
    expect(h.stdout).toBe("no trial boots recorded\n");
  });

  it("after our own rollback, status says what this boot fell back from (the boot loader's state may not)", () => {
    const env = root();
    sh("grub-editenv", [path.join(dir, "boot/grub/grubenv"), "unset", "boot_counter"]);
    sh("grub-editenv", [path.join(dir, "boot/grub/grubenv"), "set", "boot_success=1"]);
    writeFileSync(
      path.join(dir, "run/bootwarden/status.json"),
      JSON.stringify({
        phase: "normal",
        slot: "default",
        updatedAt: "",
        pid: 1,
        done: [],
        notes: [],
        rolledBackFrom: { slot: "PARTLABEL=USR-B", reason: "unhealthy (unit:app.service failed)" },
      }),
    );
    const j = JSON.parse(cli(["status", "--json"], env).stdout);
    expect(j.rolledBackFrom).toEqual({
      slot: "PARTLABEL=USR-B",
      reason: "unhealthy (unit:app.service failed)",
    });
    expect(cli(["status"], env).stdout).toContain(
      "rolled back: the trial of PARTLABEL=USR-B failed: unhealthy (unit:app.service failed)",
    );
  });

  it("control characters in a recorded reason are shown escaped, never sent to the terminal", () => {
    const env = root();
    writeFileSync(
      path.join(dir, "var/lib/bootwarden/history.json"),
      JSON.stringify([
        {
          boot: "b1",
          slot: "default",
          startedAt: "t",
          verdict: "unhealthy",
          reason: "unit x is \u001b[2Jgone\nfake: line",
        },
      ]),
    );
    const h = cli(["history"], env);
    expect(h.stdout).toContain("unit x is \\x1b[2Jgone\\x0afake: line");
    expect(h.stdout).not.toContain("\u001b");
  });
});
