import { EventEmitter } from "node:events";
import dbus from "dbus-next";
import { BootwardenError } from "../base/errors.js";
import { READ_PROPERTIES } from "../core/unit-rules.js";
import { SERVICE_IFACE, type SystemdEvents, UNIT_IFACE } from "./api.js";
import { DirectLink } from "./direct.js";
import { BUS, JOBS_RULE, MANAGER, MANAGER_PATH, PROPS_RULE, SYSTEMD } from "./names.js";
import { unwrapRead } from "./properties.js";

const { Message } = dbus;
type Msg = InstanceType<typeof Message>;
export type MessageBus = ReturnType<typeof dbus.systemBus>;

const PER_UNIT_LIMIT = 100;
const CALL_BATCH = 64; // dbus-daemon allows 128 pending replies per connection

/**
 * The connection to systemd: PID 1's own socket (DirectLink) when `directPath` names one this process may open, else a
 * dbus-next bus that the caller owns; the bus serves the daemon's own API either way. What it delivers: the watched
 * units' property changes and job ends, and "reconnected" when systemd came back (daemon-reexec). dbus-next 0.10
 * leaks match rules from proxy objects and has no call timeout, so this speaks plain messages: on the bus one match
 * per watched unit (or one path_namespace match past PER_UNIT_LIMIT), one for NameOwnerChanged, every call raced
 * against a timeout.
 */
export class SystemdLink extends EventEmitter<SystemdEvents> {
  private systemdOwner = "";
  private closed = false;
  /** Watched unit object paths -> names; signals for other paths are dropped unread. */
  private readonly watched = new Map<string, string>();
  /** Units whose JobRemoved is wanted: the watched ones and transient runs'. */
  private readonly jobUnits = new Set<string>();
  private namespaceMatch = false;
  private allJobs = false;
  private direct?: DirectLink;

  /** Rejected by the bus's first error (no socket, refused): every call fails with it, not with a timeout. */
  private readonly broken: Promise<never>;

  constructor(
    readonly bus: MessageBus,
    readonly callTimeoutMs = 10_000,
    private readonly directPath?: string,
  ) {
    super();
    this.broken = new Promise<never>((_, reject) => bus.on("error", reject));
    this.broken.catch(() => undefined);
  }

  /** Which way systemd is spoken to, once started. */
  get route(): "pid1" | "bus" {
    return this.direct ? "pid1" : "bus";
  }

  async call(
    destination: string,
    path: string,
    iface: string,
    member: string,
    signature = "",
    body: unknown[] = [],
  ) {
    const msg = new Message({ destination, path, interface: iface, member, signature, body });
    const via = this.direct && destination === SYSTEMD ? this.direct : this.bus;
    let timer: NodeJS.Timeout | undefined;
    const late = `${iface}.${member} got no answer in ${this.callTimeoutMs} ms`;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BootwardenError("dbus", "timeout", late)), this.callTimeoutMs);
    });
    try {
      const reply = (await Promise.race([via.call(msg), timeout, this.broken])) as Msg | null;
      return reply?.body ?? [];
    } finally {
      clearTimeout(timer);
    }
  }

  private busCall(member: string, arg: string /* AddMatch, RemoveMatch, GetNameOwner */) {
    return this.call(BUS, "/org/freedesktop/DBus", BUS, member, "s", [arg]);
  }

  private addMatch = (rule: string) => (this.direct ? Promise.resolve([]) : this.busCall("AddMatch", rule));

  watchJob = (unit: string) => {
    this.jobUnits.add(unit);
    return this.addMatch(`${JOBS_RULE},arg2='${unit}'`);
  };

  unwatchJob = (unit: string) => {
    this.jobUnits.delete(unit);
    return this.direct ? Promise.resolve([]) : this.busCall("RemoveMatch", `${JOBS_RULE},arg2='${unit}'`);
  };

  close(): void {
    this.closed = true;
    this.direct?.disconnect();
    this.bus.disconnect();
  }

  async start(): Promise<void> {
    this.bus.on("message", (m: Msg) => this.onBusMessage(m));
    const conn = (this.bus as unknown as { _connection?: EventEmitter })._connection;
    conn?.on("end", () => this.lose("the system bus closed the connection"));
    this.bus.on("error", (err: Error) => this.lose(`bus error: ${err.message}`));
    if (await this.connectDirect()) return;
    // Sent together, answered in one round trip: dbus-daemon handles a connection's messages in order, so the match
    // is in place before systemd's name is asked for.
    await Promise.all([
      this.addMatch(`type='signal',sender='${BUS}',member='NameOwnerChanged',arg0='${SYSTEMD}'`),
      this.subscribe(),
    ]);
  }

  /** False where PID 1's socket cannot be opened (not root, not there): the bus carries everything then. */
  private async connectDirect(): Promise<boolean> {
    if (!this.directPath) return false;
    const link = new DirectLink((path, member, unit) => this.wanted(path, member, unit), this.directPath);
    try {
      await link.connect();
    } catch {
      return false;
    }
    link.on("message", (m) => this.onSystemd(m));
    link.on("reconnected", () => this.emit("reconnected"));
    link.on("end", (reason) => this.lose(reason));
    this.direct = link;
    return true;
  }

  /** On PID 1's socket every unit's signals come: only these are unmarshalled. */
  private wanted(path: string, member: string, unit: string | undefined): boolean {
    if (member === "PropertiesChanged") return this.watched.has(path);
    return member === "JobRemoved" && (this.allJobs || this.jobUnits.has(unit ?? ""));
  }

  /**
   * Signals for these units only: per unit, its PropertiesChanged for the interfaces the checks read and its
   * JobRemoved, each a match rule in dbus-daemon, so the thousand other units of a boot cost this process nothing
   * (systemd sends a signal per unit change and per job; unmarshalling them is most of the CPU otherwise). Past
   * PER_UNIT_LIMIT units one match for all units (dbus-daemon's system bus allows 512 rules per connection) and
   * the path is filtered here, before anything is unwrapped.
   */
  async watchUnits(units: readonly { name: string; path: string }[]): Promise<void> {
    for (const u of units) {
      this.watched.set(u.path, u.name);
      this.jobUnits.add(u.name);
    }
    if (this.direct) return;
    const rules: string[] = [];
    if (this.watched.size > PER_UNIT_LIMIT) {
      if (this.namespaceMatch) return;
      this.namespaceMatch = true;
      rules.push(`${PROPS_RULE},path_namespace='/org/freedesktop/systemd1/unit'`, JOBS_RULE);
    } else {
      for (const u of units) {
        rules.push(`${PROPS_RULE},path='${u.path}',arg0='${UNIT_IFACE}'`, `${JOBS_RULE},arg2='${u.name}'`);
        if (u.name.endsWith(".service")) rules.push(`${PROPS_RULE},path='${u.path}',arg0='${SERVICE_IFACE}'`);
      }
    }
    for (let i = 0; i < rules.length; i += CALL_BATCH)
      await Promise.all(rules.slice(i, i + CALL_BATCH).map((r) => this.addMatch(r)));
  }

  /** Every job's end (the noFailedUnits check: a unit only fails through a job). */
  async watchAllJobs(): Promise<void> {
    if (this.allJobs) return;
    this.allJobs = true;
    await this.addMatch(JOBS_RULE);
  }

  private async subscribe() {
    const [[owner]] = await Promise.all([
      this.busCall("GetNameOwner", SYSTEMD),
      // Without Subscribe systemd sends no unit signals to this client at all. After daemon-reexec systemd restores
      // its subscribers itself and answers AlreadySubscribed, which is what we want.
      this.call(SYSTEMD, MANAGER_PATH, MANAGER, "Subscribe").catch(
        (err: { type?: string; message?: string }) => {
          if (!/AlreadySubscribed/.test(err.type ?? "") && !/already subscribed/i.test(err.message ?? ""))
            throw err;
          return [];
        },
      ),
    ]);
    this.systemdOwner = String(owner);
  }

  private lose(reason: string) {
    if (this.closed) return;
    this.closed = true;
    this.emit("lost", reason);
  }

  /**
   * Only signals from the bus itself (NameOwnerChanged) and from the connection that owns systemd's name count: any
   * user may send a signal to our unique name (the system bus's default policy), and a match rule's sender= does not
   * filter a signal sent to us directly. dbus-daemon stamps every message's sender, so it cannot be forged.
   */
  private trusted(m: Msg): boolean {
    // The bus itself: NameOwnerChanged, and NameAcquired for our own name after Hello.
    if (m.sender === BUS) return true;
    if (m.sender && m.sender === this.systemdOwner && m.member !== "NameOwnerChanged") return true;
    this.emit("foreign", String(m.sender ?? ""), `${m.interface ?? ""}.${m.member ?? ""} on ${m.path ?? ""}`);
    return false;
  }

  private onBusMessage(m: Msg) {
    if (m.type !== dbus.MessageType.SIGNAL) return;
    if (!this.trusted(m)) return;
    if (this.direct) return; // the bus's own signals (NameAcquired): systemd is not spoken to here
    if (m.sender === BUS) {
      if (m.member !== "NameOwnerChanged" || m.body[0] !== SYSTEMD) return;
      const newOwner = String(m.body[2] ?? "");
      if (newOwner && newOwner !== this.systemdOwner) {
        // The bus says so: signals from the new owner count at once, before the re-subscription is answered.
        this.systemdOwner = newOwner;
        this.subscribe().then(
          () => this.emit("reconnected"),
          (err: Error) =>
            this.lose(`re-subscribing after systemd changed its bus name failed: ${err.message}`),
        );
      }
      return;
    }
    this.onSystemd(m);
  }

  private onSystemd(m: Msg) {
    if (m.member === "PropertiesChanged") {
      if (!m.path || !this.watched.has(m.path)) return;
      const [iface, changed, invalidated = []] = m.body as [string, Record<string, unknown>, string[]];
      const bag = unwrapRead(changed);
      const relevant = invalidated.filter((p) => READ_PROPERTIES.has(p));
      if (Object.keys(bag).length === 0 && relevant.length === 0) return;
      this.emit("changed", m.path, iface, bag, relevant);
    } else if (m.member === "JobRemoved" && typeof m.body[2] === "string") {
      this.emit("jobRemoved", m.body[2], String(m.body[3]));
    }
  }
}
