// `bootwarden daemon` and `bootwarden backstop` as the CLI runs them (config file, boot state on disk, their wiring),
// built from fakes of their ports: systemd, the clock, the status and records, the notifier.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileStatusStore } from "../../src/actions/status-store.js";
import { MessageId } from "../../src/base/message-ids.js";
import { runBackstop } from "../../src/commands/backstop.js";
import { runDaemon } from "../../src/commands/daemon.js";
import type { DaemonPorts } from "../../src/commands/daemon-ports.js";
import {
  FakeClock,
  MemoryFlags,
  MemoryMotd,
  MemoryStore,
  memoryLogger,
  RecordingNotifier,
} from "../fakes/fake-ports.js";
import { FakeSystemd } from "../fakes/fake-systemd.js";

let root: string;
const before = process.env.BOOTWARDEN_ROOT;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), "bw-run-"));
  process.env.BOOTWARDEN_ROOT = root;
});
afterEach(() => {
  if (before === undefined) delete process.env.BOOTWARDEN_ROOT;
  else process.env.BOOTWARDEN_ROOT = before;
  rmSync(root, { recursive: true, force: true });
});

/** A greenboot grubenv with `vars`, as grub-editenv writes it (1024 bytes, # padding). */
function grubenv(vars: string): string {
  const file = path.join(root, "boot/grub/grubenv");
  mkdirSync(path.dirname(file), { recursive: true });
  const text = `# GRUB Environment Block\n${vars}`;
  writeFileSync(file, text + "#".repeat(1024 - text.length));
  return file;
}
const envOf = (file: string) => readFileSync(file, "latin1").replace(/#+$/, "");
const config = (yaml: string) => {
  const f = path.join(root, "config.yaml");
  writeFileSync(f, yaml);
  return f;
};
const CONFIG = `bootState:\n  backend: grubenv\n  path: /boot/grub/grubenv\nassessment:\n  deadline: 30s\n  critical:\n    units: [app.service]\n`;
const until = async (pred: () => boolean) => {
  for (let i = 0; !pred(); i++) {
    if (i > 500) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
};

const appComesUp = (systemd: FakeSystemd) =>
  systemd.set("app.service", {
    ActiveState: "active",
    SubState: "running",
    ActiveEnterTimestampMonotonic: 4_000_000n,
  });

function ports() {
  const systemd = new FakeSystemd();
  let stop!: () => void;
  const p = {
    ...memoryLogger(),
    notifier: new RecordingNotifier(),
    store: new MemoryStore(),
    flags: new MemoryFlags(),
    motd: new MemoryMotd(),
    clock: new FakeClock(5000),
    systemd: () => systemd,
    stopSignal: new Promise<void>((r) => (stop = r)),
    exits: [] as number[],
    exit(code: number) {
      p.exits.push(code);
    },
    pid: 7,
  };
  return { p: p satisfies DaemonPorts, systemd, stop };
}

describe("runDaemon, in process", () => {
  it("a greenboot trial: READY, the unit comes up, boot_success=1 on disk, healthy flag; SIGTERM ends it with 0", async () => {
    const env = grubenv("boot_counter=2\nboot_success=0\n");
    const { p, systemd, stop } = ports();
    const run = runDaemon(config(CONFIG), p);
    await until(() => p.notifier.sent.some((s) => s.startsWith("READY=1")));
    appComesUp(systemd);
    await until(() => p.flags.writes.length > 0);
    expect(envOf(env)).toBe("# GRUB Environment Block\nboot_success=1\n");
    expect(p.flags.writes).toEqual([{ which: "healthy", reason: "all critical checks passed" }]);
    expect(
      p.records.filter((r) => r.MESSAGE_ID === MessageId.verdict).map((r) => r.BOOTWARDEN_VERDICT),
    ).toEqual(["healthy"]);
    stop();
    expect(await run).toBe(0);
    expect(p.notifier.sent.at(-1)).toBe("STOPPING=1");
    expect(systemd.closed).toBe(true);
  });

  it("a kernel that refuses the raised CPU weight: said in one info line, and the trial goes on to its verdict", async () => {
    const env = grubenv("boot_counter=2\nboot_success=0\n");
    const { p, systemd, stop } = ports();
    const run = runDaemon(config(CONFIG), { ...p, raisePriority: () => "/proc/self/autogroup: EACCES" });
    await until(() => p.notifier.sent.some((s) => s.startsWith("READY=1")));
    expect(p.records.filter((r) => /CPU weight/.test(String(r.msg)))).toMatchObject([
      { level: 30, msg: "kept the default CPU weight: /proc/self/autogroup: EACCES" },
    ]);
    appComesUp(systemd);
    await until(() => p.flags.writes.length > 0);
    expect(envOf(env)).toBe("# GRUB Environment Block\nboot_success=1\n");
    stop();
    expect(await run).toBe(0);
  });

  it("an invalid config on a normal boot: exit 78, the healthy flag all the same, the error in the status", async () => {
    grubenv("saved_entry=default\n");
    const { p, systemd } = ports();
    expect(await runDaemon(config(`${CONFIG}  bogus: 1\n`), p)).toBe(78);
    expect(p.store.status).toMatchObject({ phase: "config-error", error: expect.stringMatching(/bogus/) });
    expect(p.flags.writes.map((w) => w.which)).toEqual(["healthy"]);
    expect(p.records.filter((r) => r.MESSAGE_ID === MessageId.configInvalid)).toHaveLength(1);
    expect(systemd.closed).toBe(true);
  });

  it("a damaged status.json from before a restart: said once, and the daemon starts over with a fresh one", async () => {
    grubenv("boot_counter=2\nboot_success=0\n");
    mkdirSync(path.join(root, "run/bootwarden"), { recursive: true });
    writeFileSync(
      path.join(root, "run/bootwarden/status.json"),
      '{"phase": "verdict", "done": 5, "notes": []}',
    );
    const { p, systemd, stop } = ports();
    const damaged: string[] = [];
    const store = new FileStatusStore(undefined, undefined, (msg) => damaged.push(msg));
    const run = runDaemon(config(CONFIG), { ...p, store });
    await until(() => p.notifier.sent.some((s) => s.startsWith("READY=1")));
    expect(damaged).toEqual([
      `${path.join(root, "run/bootwarden/status.json")}: not a status record of bootwarden's`,
    ]);
    expect((await store.read())?.phase).toBe("assessing");
    appComesUp(systemd);
    await until(() => p.flags.writes.length > 0);
    stop();
    expect(await run).toBe(0);
  });
});

describe("runBackstop, in process", () => {
  it("a trial with no verdict by the deadline: marked bad on disk (boot_counter=0) and rebooted", async () => {
    const env = grubenv("boot_counter=2\nboot_success=0\n");
    const { p, systemd } = ports();
    const run = runBackstop(config(CONFIG), p);
    await until(() => p.records.some((r) => /backstop armed/.test(r.msg)));
    await p.clock.advanceTo(5000 + 60_000);
    expect(await run).toBe(0);
    expect(envOf(env)).toBe("# GRUB Environment Block\nboot_counter=0\nboot_success=0\n");
    expect(systemd.started).toEqual(["reboot.target"]);
    expect(p.flags.writes.map((w) => w.which)).toEqual(["unhealthy"]);
  });

  it("a blessed slot at the deadline: nothing", async () => {
    grubenv("boot_counter=2\nboot_success=0\n");
    const { p, systemd } = ports();
    const run = runBackstop(config(CONFIG), p);
    await until(() => p.records.some((r) => /backstop armed/.test(r.msg)));
    grubenv("boot_success=1\n");
    await p.clock.advanceTo(5000 + 60_000);
    expect(await run).toBe(0);
    expect(systemd.started).toEqual([]);
  });
});
