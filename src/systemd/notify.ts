import { createRequire } from "node:module";

/**
 * sd_notify. Soft-fail rules: no NOTIFY_SOCKET (run by hand) means every call is a no-op; a failed send is reported
 * once through onError and never throws, because losing a STATUS= line must not stop an assessment. The watchdog
 * pings at half of WATCHDOG_USEC, only when WATCHDOG_PID is unset or ours.
 */
export interface Notifier {
  ready(status?: string): void;
  status(text: string): void;
  stopping(): void;
  /**
   * Pings from now on; `timeoutUsec`: a longer timeout than the unit's, told to systemd (WATCHDOG_USEC=), pinged at
   * half of it only once the message is delivered (until then the unit's cadence goes on). Never shorter than the
   * unit's, and nothing where the unit has no watchdog.
   */
  startWatchdog(timeoutUsec?: number): void;
  close(): void;
}

/** `delivered` runs once the message is in systemd's queue. */
type Sender = (msg: string, delivered?: () => void) => void;

interface DgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, cb: (err?: Error) => void): void;
  on(ev: "error", cb: (err: Error) => void): void;
  close(): void;
}

function dgramSender(
  socketPath: string,
  onError: (e: Error) => void,
): { send: Sender; close: () => void } | undefined {
  try {
    const require = createRequire(import.meta.url);
    const unix = require("unix-dgram") as { createSocket(type: "unix_dgram"): DgramSocket };
    const sock = unix.createSocket("unix_dgram");
    sock.on("error", onError);
    return {
      send: (msg, delivered) => {
        const b = Buffer.from(msg);
        // A full notify queue (EAGAIN) must not lose READY=1 or STOPPING=1: retry those for a few seconds.
        const vital = /^(READY|STOPPING)=1/.test(msg);
        const attempt = (left: number) =>
          sock.send(b, 0, b.length, socketPath, (err) => {
            if (!err) return delivered?.();
            if (vital && left > 0) setTimeout(() => attempt(left - 1), 100).unref();
            else onError(err);
          });
        attempt(50);
      },
      close: () => sock.close(),
    };
  } catch {
    return undefined;
  }
}

/** For abstract sockets (unix-dgram cannot address them) or without the addon: systemd-notify, NotifyAccess=all. */
function toolSender(onError: (e: Error) => void): Sender {
  return (msg, delivered) => {
    const { spawn } = process.getBuiltinModule("node:child_process");
    const child = spawn("systemd-notify", [`--pid=${process.pid}`, ...msg.split("\n")], { stdio: "ignore" });
    child.on("error", onError);
    child.on("exit", (code) => code === 0 && delivered?.());
  };
}

export function createNotifier(env = process.env, onError: (e: Error) => void = () => undefined): Notifier {
  const socketPath = env.NOTIFY_SOCKET;
  let reported = false;
  const report = (e: Error) => {
    if (!reported) onError(e);
    reported = true;
  };
  let timer: NodeJS.Timeout | undefined;
  let send: Sender = () => undefined;
  let close: () => void = () => undefined;
  if (socketPath) {
    const dgram = socketPath.startsWith("/") ? dgramSender(socketPath, report) : undefined;
    if (dgram) ({ send, close } = dgram);
    else send = toolSender(report);
  }
  const unitUsec = Number(env.WATCHDOG_USEC ?? 0);
  const watchdogOurs = !env.WATCHDOG_PID || Number(env.WATCHDOG_PID) === process.pid;
  let asked = 0;
  const pingEvery = (usec: number) => {
    if (timer) clearInterval(timer);
    timer = setInterval(() => send("WATCHDOG=1"), Math.max(1, Math.floor(usec / 2000)));
    timer.unref();
  };
  return {
    ready: (status) => send(status ? `READY=1\nSTATUS=${status}` : "READY=1"),
    status: (text) => send(`STATUS=${text.replace(/\n/g, " ")}`),
    stopping: () => send("STOPPING=1"),
    startWatchdog(timeoutUsec = 0) {
      if (!socketPath || !unitUsec || !watchdogOurs) return;
      if (!timer) pingEvery(unitUsec);
      const usec = Math.max(unitUsec, Math.floor(timeoutUsec));
      if (usec === unitUsec || usec === asked) return;
      asked = usec;
      send(`WATCHDOG_USEC=${usec}`, () => timer && pingEvery(usec));
    },
    close() {
      if (timer) clearInterval(timer);
      timer = undefined;
      close();
    },
  };
}
