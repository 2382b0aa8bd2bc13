import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createNotifier } from "../../src/systemd/notify.js";

interface DgramServer {
  bind(path: string): void;
  on(ev: "message", cb: (buf: Buffer) => void): void;
  close(): void;
}
const unix = createRequire(import.meta.url)("unix-dgram") as {
  createSocket(type: "unix_dgram", cb?: (buf: Buffer) => void): DgramServer;
};

/** A real NOTIFY_SOCKET: a datagram socket in a temp dir that records what the notifier sends. */
function notifySocket(at?: string) {
  const dir = at ? path.dirname(at) : mkdtempSync(path.join(tmpdir(), "bw-notify-"));
  const file = path.join(dir, "notify");
  if (at) mkdirSync(dir, { recursive: true });
  const got: string[] = [];
  const server = unix.createSocket("unix_dgram", (buf) => got.push(buf.toString()));
  server.bind(file);
  const close = () => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { file, got, close };
}
const settle = () => new Promise((r) => setTimeout(r, 50));

describe("sd_notify", () => {
  afterEach(() => vi.useRealTimers());

  it("is a silent no-op without NOTIFY_SOCKET (run by hand)", () => {
    const errors: Error[] = [];
    const n = createNotifier({}, (e) => errors.push(e));
    n.ready("x");
    n.status("y");
    n.startWatchdog();
    n.close();
    expect(errors).toEqual([]);
  });

  it("sends READY=1 with a STATUS= line and STATUS updates to the socket", async () => {
    const s = notifySocket();
    const n = createNotifier({ NOTIFY_SOCKET: s.file });
    n.ready("trial boot of B: 0/1 critical checks up");
    n.status("line one\nline two");
    await settle();
    expect(s.got).toEqual([
      "READY=1\nSTATUS=trial boot of B: 0/1 critical checks up",
      "STATUS=line one line two",
    ]);
    n.close();
    s.close();
  });

  it("pings the watchdog at half of WATCHDOG_USEC, only when WATCHDOG_PID is ours", async () => {
    const s = notifySocket();
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const n = createNotifier({
      NOTIFY_SOCKET: s.file,
      WATCHDOG_USEC: "2000000",
      WATCHDOG_PID: String(process.pid),
    });
    n.startWatchdog();
    vi.advanceTimersByTime(3100);
    vi.useRealTimers();
    await settle();
    expect(s.got.filter((m) => m === "WATCHDOG=1")).toHaveLength(3);
    n.close();
    const other = createNotifier({ NOTIFY_SOCKET: s.file, WATCHDOG_USEC: "2000000", WATCHDOG_PID: "1" });
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    other.startWatchdog();
    vi.advanceTimersByTime(5000);
    vi.useRealTimers();
    await settle();
    expect(s.got.filter((m) => m === "WATCHDOG=1")).toHaveLength(3);
    other.close();
    s.close();
  });

  it("reports a failed send once and never throws", async () => {
    const errors: Error[] = [];
    const n = createNotifier({ NOTIFY_SOCKET: "/nonexistent/notify" }, (e) => errors.push(e));
    n.status("a");
    n.status("b");
    await settle();
    expect(errors).toHaveLength(1);
    n.close();
  });

  it("a longer timeout is told to systemd and pinged at half of it once delivered; never shorter than the unit's", async () => {
    const s = notifySocket();
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const n = createNotifier({ NOTIFY_SOCKET: s.file, WATCHDOG_USEC: "2000000" });
    n.startWatchdog();
    n.startWatchdog(1_000_000); // shorter than the unit's: nothing changes
    n.startWatchdog(20_000_000);
    n.startWatchdog(20_000_000); // asked once
    await settle();
    // Delivered: the cadence is 10 s now (it was 1 s), so 9.5 s bring no ping, 10.5 s one.
    vi.advanceTimersByTime(9_500);
    await settle();
    expect(s.got).toEqual(["WATCHDOG_USEC=20000000"]);
    vi.advanceTimersByTime(1_000);
    await settle();
    expect(s.got).toEqual(["WATCHDOG_USEC=20000000", "WATCHDOG=1"]);
    n.close();
    s.close();
  });

  it("asks for no watchdog where the unit has none, or where WATCHDOG_PID is another process's", async () => {
    const s = notifySocket();
    for (const env of [{}, { WATCHDOG_USEC: "2000000", WATCHDOG_PID: "1" }]) {
      const n = createNotifier({ NOTIFY_SOCKET: s.file, ...env });
      n.startWatchdog(20_000_000);
      n.close();
    }
    await settle();
    expect(s.got).toEqual([]);
    s.close();
  });

  it("a longer timeout that is not delivered leaves the unit's cadence", async () => {
    const s = notifySocket();
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const errors: Error[] = [];
    const n = createNotifier({ NOTIFY_SOCKET: s.file, WATCHDOG_USEC: "2000000" }, (e) => errors.push(e));
    n.startWatchdog();
    s.close(); // systemd gone for a moment: the message is refused
    n.startWatchdog(20_000_000);
    await settle();
    expect(errors).toHaveLength(1);
    const back = notifySocket(s.file);
    vi.advanceTimersByTime(1_100);
    await settle();
    expect(back.got).toEqual(["WATCHDOG=1"]);
    n.close();
    back.close();
  });
});
