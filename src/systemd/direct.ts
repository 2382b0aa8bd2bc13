import { EventEmitter } from "node:events";
import net from "node:net";
import dbus from "dbus-next";
import { marshallMessage, messageToJsFmt } from "dbus-next/lib/marshall-compat.js";
import { unmarshall } from "dbus-next/lib/message.js";
import { BootwardenError } from "../base/errors.js";

const { Message, DBusError, MessageType } = dbus;
type Msg = InstanceType<typeof Message>;

/** PID 1's own D-Bus socket (root only): what `systemctl` speaks as root, with no bus daemon in between. */
export const PID1_SOCKET = "/run/systemd/private";
const REPLY = MessageType.METHOD_RETURN;
const ERROR = MessageType.ERROR;
const SIGNAL = MessageType.SIGNAL;
/** PID 1 re-executing itself drops its direct connections; it is back well within this. */
const RECONNECT_MS = 20_000;
const RECONNECT_STEP_MS = 100;

/** A signal's path, member and, for JobRemoved, its unit: enough to drop it before it is unmarshalled. */
export type SignalFilter = (path: string, member: string, jobUnit: string | undefined) => boolean;

interface DirectEvents {
  message: [Msg];
  reconnected: [];
  end: [string];
}

/**
 * A direct connection to PID 1. systemd sends every unit's signals to each such connection at once, where on the
 * system bus they wait behind the bus daemon's routing: in a busy boot (1000 units ending around the critical one)
 * the critical unit's change came 10 ms after it was active here, 700 ms over the bus (README, Where the time goes).
 * The peer is PID 1 alone, so no one else can send a signal here. With no match rules every unit's signals come: the
 * filter sees each signal's header and drops those no one watches before they are unmarshalled.
 */
export class DirectLink extends EventEmitter<DirectEvents> {
  private socket?: net.Socket;
  private serial = 1;
  private readonly pending = new Map<number, { resolve(m: Msg): void; reject(e: Error): void }>();
  private closed = false;

  constructor(
    private readonly wants: SignalFilter,
    readonly socketPath = PID1_SOCKET,
  ) {
    super();
  }

  /** Connects and authenticates; rejects with the socket's error (ENOENT, EACCES...) when that fails. */
  async connect(): Promise<void> {
    const socket = await authenticate(this.socketPath);
    this.socket = socket;
    let buf: Buffer = Buffer.alloc(0);
    socket.on("data", (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      let at = 0;
      try {
        for (let len = frameLength(buf, at); len > 0 && at + len <= buf.length; len = frameLength(buf, at)) {
          this.onFrame(buf.subarray(at, at + len));
          at += len;
        }
      } catch {
        // A message that cannot be read: the stream cannot be trusted past it. Reconnecting reads every unit afresh.
        return void socket.destroy();
      }
      buf = at === buf.length ? Buffer.alloc(0) : buf.subarray(at);
    });
    socket.on("error", () => undefined); // "close" follows, and says it
    socket.once("close", () => this.onClose(socket));
  }

  call(msg: Msg): Promise<Msg> {
    const socket = this.socket;
    if (!socket || socket.destroyed)
      return Promise.reject(new BootwardenError("dbus", "io", "systemd's private socket is not connected"));
    const serial = this.serial++;
    const [data] = marshallMessage({ ...msg, serial, flags: msg.flags ?? 0 });
    return new Promise<Msg>((resolve, reject) => {
      this.pending.set(serial, { resolve, reject });
      socket.write(data);
    });
  }

  disconnect(): void {
    this.closed = true;
    this.socket?.destroy();
  }

  private onFrame(frame: Buffer) {
    const type = frame[1];
    if (type !== SIGNAL && type !== REPLY && type !== ERROR) return;
    const { fields, bodyAt } = headerFields(frame);
    if (type === SIGNAL) {
      const member = String(fields.member ?? "");
      const unit = member === "JobRemoved" ? jobRemovedUnit(frame, bodyAt) : undefined;
      if (!this.wants(String(fields.path ?? ""), member, unit)) return;
    }
    // dbus-next's unmarshall reads a body even where there is none (a reply to ResetFailedUnit).
    const raw = bodyAt < frame.length ? messageToJsFmt(unmarshall(frame)) : { ...fields, type, body: [] };
    const m = new Message(raw as ConstructorParameters<typeof Message>[0]);
    if (type === SIGNAL) return void this.emit("message", m);
    // dbus-next's types call it a string; its unmarshaller gives the number.
    const serial = Number(m.replySerial);
    const call = this.pending.get(serial);
    this.pending.delete(serial);
    if (m.type === ERROR) call?.reject(new DBusError(m.errorName ?? "", String(m.body?.[0] ?? ""), m));
    else call?.resolve(m);
  }

  /** PID 1 re-executing (daemon-reexec) closes the socket: calls in flight fail, the link comes back on its own. */
  private async onClose(socket: net.Socket) {
    if (this.closed || socket !== this.socket) return;
    const lost = new DBusError("org.freedesktop.DBus.Error.Disconnected", "systemd's private socket closed");
    for (const call of this.pending.values()) call.reject(lost);
    this.pending.clear();
    for (let waited = 0; waited < RECONNECT_MS && !this.closed; waited += RECONNECT_STEP_MS) {
      await new Promise((r) => setTimeout(r, RECONNECT_STEP_MS));
      try {
        await this.connect();
        return void this.emit("reconnected");
      } catch {}
    }
    if (!this.closed)
      this.emit("end", `systemd's private socket closed and did not come back in ${RECONNECT_MS / 1000} s`);
  }
}

function authenticate(path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.once("error", fail);
    socket.once("connect", () => {
      const uid = Buffer.from(String(process.getuid?.() ?? 0)).toString("hex");
      socket.write(`\0AUTH EXTERNAL ${uid}\r\n`);
    });
    let said = "";
    const onData = (d: Buffer) => {
      said += d.toString("latin1");
      if (!said.includes("\r\n")) return;
      socket.off("data", onData);
      socket.off("error", fail);
      if (!said.startsWith("OK ")) return fail(new Error(`systemd refused the connection: ${said.trim()}`));
      socket.write("BEGIN\r\n");
      resolve(socket);
    };
    socket.on("data", onData);
  });
}

const u32 = (b: Buffer, at: number) => (b[0] === 0x6c ? b.readUInt32LE(at) : b.readUInt32BE(at));
const align = (n: number, to: number) => (n + to - 1) & ~(to - 1);

/** A whole message's length from its fixed header, or 0 until 16 bytes are there. */
function frameLength(b: Buffer, at: number): number {
  if (b.length - at < 16) return 0;
  const view = b.subarray(at, at + 16);
  return 16 + align(u32(view, 12), 8) + u32(view, 4);
}

const FIELDS = [
  "",
  "path",
  "interface",
  "member",
  "errorName",
  "replySerial",
  "destination",
  "sender",
  "signature",
];

/** The header's a(yv) fields by name (dbus-next's), and where the body starts. */
function headerFields(b: Buffer): { fields: Record<string, string | number>; bodyAt: number } {
  const end = 16 + u32(b, 12);
  const fields: Record<string, string | number> = {};
  for (let at = 16; at < end; ) {
    at = align(at, 8);
    const name = FIELDS[b[at] ?? 0] ?? "";
    const sig = String.fromCharCode(b[at + 2] ?? 0);
    at += 3 + (b[at + 1] ?? 0);
    if (sig === "g") {
      fields[name] = b.toString("latin1", at + 1, at + 1 + (b[at] ?? 0));
      at += 2 + (b[at] ?? 0);
    } else if (sig === "s" || sig === "o") {
      at = align(at, 4);
      const len = u32(b, at);
      fields[name] = b.toString("utf8", at + 4, at + 4 + len);
      at += 5 + len;
    } else {
      at = align(at, 4); // u: REPLY_SERIAL, UNIX_FDS
      fields[name] = u32(b, at);
      at += 4;
    }
  }
  return { fields, bodyAt: align(end, 8) };
}

/** JobRemoved (uoss): the unit's name, its third argument. */
function jobRemovedUnit(b: Buffer, bodyAt: number): string {
  let at = bodyAt + 4;
  at = align(at + 4 + u32(b, at) + 1, 4);
  return b.toString("utf8", at + 4, at + 4 + u32(b, at));
}
