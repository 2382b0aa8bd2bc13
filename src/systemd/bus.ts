import { EventEmitter } from "node:events";
import dbus from "dbus-next";
import { type PropertyBag, READ_PROPERTIES } from "../core/unit-rules.js";
import {
  SERVICE_IFACE,
  type SystemdConnection,
  type SystemdEvents,
  type TransientService,
  UNIT_IFACE,
} from "./api.js";
import { BUS, JOBS_RULE, MANAGER, MANAGER_PATH, PROPS, PROPS_RULE, SYSTEMD } from "./names.js";
import { unwrap, unwrapRead } from "./properties.js";
import { SignalTrust } from "./signal-trust.js";
import { strandedUnits } from "./stranded.js";
import { CALL_TIMEOUT_MS, timedCall } from "./timed-call.js";
import { runTransient, startTransient } from "./transient.js";

const { Message } = dbus;
type Msg = InstanceType<typeof Message>;
type MessageBus = ReturnType<typeof dbus.systemBus>;

export const connectSystemd = (callTimeoutMs?: number): SystemdConnection =>
  new SystemdClient(dbus.systemBus(), callTimeoutMs);

const PER_UNIT_LIMIT = 100;
const CALL_BATCH = 64; // dbus-daemon allows 128 pending replies per connection

/**
 * systemd's manager over a dbus-next bus that the caller owns. dbus-next 0.10 leaks match rules from proxy
 * objects and has no call timeout, so this speaks plain messages: one path_namespace match for all unit
 * property changes, one for the manager's JobRemoved, one for NameOwnerChanged, every call raced against a timeout.
 */
export class SystemdClient extends EventEmitter<SystemdEvents> implements SystemdConnection {
  private readonly trust = new SignalTrust(
    (m) => this.dispatch(m),
    (sender, what) => this.emit("foreign", sender, what),
  );
  private userspace?: Promise<bigint>;
  private closed = false;
  /** Watched unit object paths -> names; signals for other paths are dropped unread. */
  private readonly watched = new Map<string, string>();
  private namespaceMatch = false;
  private allJobs = false;

  /** Rejected by the bus's first error (no socket, refused): every call fails with it, not with a timeout. */
  private readonly broken: Promise<never>;

  constructor(
    readonly bus: MessageBus,
    readonly callTimeoutMs = CALL_TIMEOUT_MS,
  ) {
    super();
    this.broken = new Promise<never>((_, reject) => bus.on("error", reject));
    this.broken.catch(() => undefined);
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
    const call = timedCall(this.bus.call(msg), this.broken, `${iface}.${member}`, this.callTimeoutMs);
    return ((await call) as Msg | null)?.body ?? [];
  }

  private busCall(member: string, arg: string /* AddMatch, RemoveMatch, GetNameOwner */) {
    return this.call(BUS, "/org/freedesktop/DBus", BUS, member, "s", [arg]);
  }

  addMatch = (rule: string) => this.busCall("AddMatch", rule);
  removeMatch = (rule: string) => this.busCall("RemoveMatch", rule);

  close(): void {
    this.closed = true;
    this.bus.disconnect();
  }

  async start(): Promise<void> {
    this.bus.on("message", (m: Msg) => {
      if (m.type === dbus.MessageType.SIGNAL) this.trust.receive(m);
    });
    const conn = (this.bus as unknown as { _connection?: EventEmitter })._connection;
    conn?.on("end", () => this.lose("the system bus closed the connection"));
    this.bus.on("error", (err: Error) => this.lose(`bus error: ${err.message}`));
    // Sent together, answered in one round trip: dbus-daemon handles a connection's messages in order, so the match
    // is in place before systemd's name is asked for.
    const started = Promise.all([
      this.addMatch(`type='signal',sender='${BUS}',member='NameOwnerChanged',arg0='${SYSTEMD}'`),
      this.subscribe(),
    ]);
    // Asked now, in the same round trip, for the deadline the daemon computes once the config is read.
    this.userspaceStart().catch(() => undefined);
    await started;
  }

  /** CLOCK_MONOTONIC µs at which userspace began in this boot: fixed for the boot, so asked once. */
  userspaceStart(): Promise<bigint> {
    this.userspace ??= this.managerProperty("UserspaceTimestampMonotonic").then(
      (v) => BigInt(v as bigint),
      (err: Error) => {
        this.userspace = undefined; // the next caller asks again
        throw err;
      },
    );
    return this.userspace;
  }

  /**
   * Signals for these units only: per unit, its PropertiesChanged for the interfaces the checks read and its
   * JobRemoved, each a match rule in dbus-daemon, so the thousand other units of a boot cost this process nothing
   * (systemd sends a signal per unit change and per job; unmarshalling them is most of the CPU otherwise). Past
   * PER_UNIT_LIMIT units one match for all units (dbus-daemon's system bus allows 512 rules per connection) and
   * the path is filtered here, before anything is unwrapped.
   */
  async watchUnits(units: readonly { name: string; path: string }[]): Promise<void> {
    for (const u of units) this.watched.set(u.path, u.name);
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

  strandedUnits(units: readonly { name: string; path: string }[]): Promise<Map<string, string>> {
    return strandedUnits((...m) => this.call(...m), units);
  }

  /** Every job's end (the noFailedUnits check: a unit only fails through a job). */
  async watchAllJobs(): Promise<void> {
    if (this.allJobs) return;
    this.allJobs = true;
    await this.addMatch(JOBS_RULE);
  }

  private async subscribe() {
    await Promise.all([
      this.busCall("GetNameOwner", SYSTEMD).then(([owner]) => this.trust.ownerIs(String(owner))),
      // Without Subscribe systemd sends no unit signals to this client at all. After daemon-reexec systemd restores
      // its subscribers itself and answers AlreadySubscribed, which is what we want.
      this.manager("Subscribe").catch((err: { type?: string; message?: string }) => {
        if (!/AlreadySubscribed/.test(err.type ?? "") && !/already subscribed/i.test(err.message ?? ""))
          throw err;
        return [];
      }),
    ]);
  }

  private lose(reason: string) {
    if (this.closed) return;
    this.closed = true;
    this.emit("lost", reason);
  }

  private dispatch(m: Msg) {
    if (m.sender === BUS) {
      if (m.member !== "NameOwnerChanged" || m.body[0] !== SYSTEMD) return;
      const newOwner = String(m.body[2] ?? "");
      if (newOwner && newOwner !== this.trust.systemdOwner) {
        // The bus says so: signals from the new owner count at once, before the re-subscription is answered.
        this.trust.ownerIs(newOwner);
        this.subscribe().then(
          () => this.emit("reconnected"),
          (err: Error) =>
            this.lose(`re-subscribing after systemd changed its bus name failed: ${err.message}`),
        );
      }
      return;
    }
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

  /** A call to systemd's manager. */
  private manager(member: string, signature = "", body: unknown[] = []) {
    return this.call(SYSTEMD, MANAGER_PATH, MANAGER, member, signature, body);
  }

  /** LoadUnit also answers for units that do not exist (LoadState "not-found"), so nothing is missed. */
  async loadUnit(name: string): Promise<string> {
    return String((await this.manager("LoadUnit", "s", [name]))[0]);
  }

  async getAll(path: string, iface: string): Promise<PropertyBag> {
    try {
      const [props] = await this.call(SYSTEMD, path, PROPS, "GetAll", "s", [iface]);
      return unwrapRead(props as Record<string, unknown>);
    } catch (err) {
      // A unit that is not a service has no Service interface.
      if (iface === SERVICE_IFACE && (err as { type?: string }).type) return {};
      throw err;
    }
  }

  /**
   * Both property bags of a unit, Unit first: systemd sets a service's Result before its state changes, so a Service
   * bag read after the Unit bag explains the state it shows. Both calls go out together on this one connection, and
   * systemd answers them in the order sent: the Service bag is still read after the Unit bag, one round trip sooner.
   */
  async readUnit(name: string, path: string): Promise<{ unit: PropertyBag; svc: PropertyBag }> {
    const [unit, svc] = await Promise.all([
      this.getAll(path, UNIT_IFACE),
      name.endsWith(".service") ? this.getAll(path, SERVICE_IFACE) : {},
    ]);
    return { unit, svc };
  }

  async managerProperty(name: string): Promise<unknown> {
    const [v] = await this.call(SYSTEMD, MANAGER_PATH, PROPS, "Get", "ss", [MANAGER, name]);
    return unwrap(v);
  }

  async startUnit(name: string, mode: string): Promise<void> {
    await this.manager("StartUnit", "ss", [name, mode]);
  }

  async stopUnit(name: string): Promise<void> {
    await this.manager("StopUnit", "ss", [name, "replace"]);
  }

  startTransient(name: string, svc: TransientService): Promise<void> {
    return startTransient((...m) => this.call(...m), name, svc);
  }

  runTransient(name: string, svc: TransientService): Promise<string> {
    return runTransient(this, name, svc, this.callTimeoutMs);
  }
}
