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
const EMPTY: Buffer = Buffer.alloc(0);

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
  private buf = EMPTY;

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
    this.buf = EMPTY;
    // A message that cannot be read: the stream cannot be trusted past it. Reconnecting reads every unit afresh.
    socket.on("data", (d: Buffer) => this.read(d) || socket.destroy());
    socket.on("error", () => undefined); // "close" follows, and says it
    socket.once("close", () => this.onClose(socket));
  }

  /** A chunk of the stream in; false when a message in it cannot be read. */
  read(d: Buffer): boolean {
    try {
      let at = 0;
      if (this.buf.length) {
        // Only the message the last chunk cut is copied together, not the whole chunk: a busy boot's flood of
        // signals is read where it lies.
        let head = this.buf;
        const fill = (n: number) => {
          const take = Math.min(n - head.length, d.length - at);
          if (take <= 0) return;
          head = Buffer.concat([head, d.subarray(at, at + take)]);
          at += take;
        };
        fill(16);
        if (head.length >= 16) fill(frameLength(head, 0));
        if (head.length < 16 || head.length < frameLength(head, 0)) {
          this.buf = head;
          return true;
        }
        this.onFrame(head);
      }
      for (let len = frameLength(d, at); len > 0 && at + len <= d.length; len = frameLength(d, at)) {
        this.onFrame(d.subarray(at, at + len));
        at += len;
      }
      this.buf = at === d.length ? EMPTY : d.subarray(at);
      return true;
    } catch {
      return false;
    }
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
    const { fields, bodyAt } = headerFields(frame, type === SIGNAL);
    if (type === SIGNAL) {
      const member = String(fields.member ?? "");
      const unit = member === "JobRemoved" ? jobRemovedUnit(frame, bodyAt) : undefined;
      if (!this.wants(String(fields.path ?? ""), member, unit)) return;
    }
    // dbus-next's unmarshall reads a body even where there is none (a reply to ResetFailedUnit); every signal has one.
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

/** A 32-bit field in the message starting at `msg`, in the byte order its first byte names. */
const u32 = (b: Buffer, at: number, msg = 0) => (b[msg] === 0x6c ? b.readUInt32LE(at) : b.readUInt32BE(at));
const align = (n: number, to: number) => (n + to - 1) & ~(to - 1);

/** A whole message's length from its fixed header, or 0 until 16 bytes are there. */
function frameLength(b: Buffer, at: number): number {
  if (b.length - at < 16) return 0;
  return 16 + align(u32(b, at + 12, at), 8) + u32(b, at + 4, at);
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

/**
 * The header's a(yv) fields by name (dbus-next's), and where the body starts; for a signal that may yet be dropped
 * only PATH and MEMBER: in a busy boot a thousand units' signals are read this way, nothing more.
 */
function headerFields(
  b: Buffer,
  signal: boolean,
): { fields: Record<string, string | number>; bodyAt: number } {
  const end = 16 + u32(b, 12);
  const fields: Record<string, string | number> = {};
  for (let at = 16; at < end; ) {
    at = align(at, 8);
    const code = b[at] ?? 0;
    const sig = b[at + 2];
    at += 3 + (b[at + 1] ?? 0);
    if (sig === 0x67 /* g */) {
      if (!signal) fields[FIELDS[code] ?? ""] = b.toString("latin1", at + 1, at + 1 + (b[at] ?? 0));
      at += 2 + (b[at] ?? 0);
    } else if (sig === 0x73 /* s */ || sig === 0x6f /* o */) {
      at = align(at, 4);
      const len = u32(b, at);
      if (!signal || code === 1 || code === 3)
        fields[FIELDS[code] ?? ""] = b.toString("utf8", at + 4, at + 4 + len);
      at += 5 + len;
    } else {
      at = align(at, 4); // u: REPLY_SERIAL, UNIX_FDS
      fields[FIELDS[code] ?? ""] = u32(b, at);
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
