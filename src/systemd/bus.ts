import { EventEmitter } from "node:events";
import dbus from "dbus-next";
import { BootwardenError } from "../errors.js";

const { Message, Variant } = dbus;
type Msg = InstanceType<typeof Message>;
export type MessageBus = ReturnType<typeof dbus.systemBus>;

const SYSTEMD = "org.freedesktop.systemd1";
const MANAGER_PATH = "/org/freedesktop/systemd1";
const MANAGER = "org.freedesktop.systemd1.Manager";
const PROPS = "org.freedesktop.DBus.Properties";

/** The subset of a unit's properties the checks read. uint64 values arrive as BigInt and are kept so. */
export interface UnitSnapshot {
  name: string;
  path: string;
  loadState: string;
  activeState: string;
  subState: string;
  result: string; // Service.Result; "" for non-services
  type: string; // Service.Type; "" for non-services
  nRestarts: number;
  activeEnterMonotonic: bigint;
  execMainExitMonotonic: bigint;
  execMainStatus: number;
}

export interface SystemdEvents {
  /** A watched unit may have changed: re-read it. */
  changed: [path: string];
  /** A job finished: its unit and result ("done", "failed", "dependency", "timeout", ...). */
  jobRemoved: [unit: string, result: string];
  /** systemd's bus name changed owner (daemon-reexec): subscriptions were re-made, re-read everything. */
  reconnected: [];
  /** The bus connection is gone; the daemon should exit so systemd restarts it. */
  lost: [reason: string];
}

function unwrap(v: unknown): unknown {
  return v instanceof Variant ? (v as InstanceType<typeof Variant>).value : v;
}

/**
 * systemd's manager over a dbus-next bus that the caller owns. dbus-next 0.10 leaks match rules from proxy
 * objects and has no call timeout, so this speaks plain messages: one path_namespace match for all unit
 * property changes, one for the manager's JobRemoved, one for NameOwnerChanged, every call raced against a timeout.
 */
export class SystemdClient extends EventEmitter<SystemdEvents> {
  private systemdOwner = "";
  private closed = false;

  constructor(
    private readonly bus: MessageBus,
    private readonly callTimeoutMs = 10_000,
  ) {
    super();
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
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new BootwardenError(`dbus: ${iface}.${member} got no answer in ${this.callTimeoutMs} ms`)),
        this.callTimeoutMs,
      );
    });
    try {
      const reply = (await Promise.race([this.bus.call(msg), timeout])) as Msg | null;
      return reply?.body ?? [];
    } finally {
      clearTimeout(timer);
    }
  }

  private addMatch(rule: string) {
    return this.call(
      "org.freedesktop.DBus",
      "/org/freedesktop/DBus",
      "org.freedesktop.DBus",
      "AddMatch",
      "s",
      [rule],
    );
  }

  async start(): Promise<void> {
    this.bus.on("message", (m: Msg) => this.onMessage(m));
    const conn = (this.bus as unknown as { _connection?: EventEmitter })._connection;
    conn?.on("end", () => this.lose("the system bus closed the connection"));
    this.bus.on("error", (err: Error) => this.lose(`bus error: ${err.message}`));
    await this.addMatch(
      `type='signal',sender='${SYSTEMD}',interface='${PROPS}',member='PropertiesChanged',path_namespace='/org/freedesktop/systemd1/unit'`,
    );
    await this.addMatch(`type='signal',sender='${SYSTEMD}',interface='${MANAGER}',member='JobRemoved'`);
    await this.addMatch(
      `type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',arg0='${SYSTEMD}'`,
    );
    await this.subscribe();
  }

  private async subscribe() {
    const [owner] = await this.call(
      "org.freedesktop.DBus",
      "/org/freedesktop/DBus",
      "org.freedesktop.DBus",
      "GetNameOwner",
      "s",
      [SYSTEMD],
    );
    this.systemdOwner = String(owner);
    // Without Subscribe systemd sends no unit signals to this client at all.
    await this.call(SYSTEMD, MANAGER_PATH, MANAGER, "Subscribe");
  }

  private lose(reason: string) {
    if (this.closed) return;
    this.closed = true;
    this.emit("lost", reason);
  }

  private onMessage(m: Msg) {
    if (m.type !== dbus.MessageType.SIGNAL) return;
    if (m.member === "NameOwnerChanged" && m.body[0] === SYSTEMD) {
      const newOwner = String(m.body[2] ?? "");
      if (newOwner && newOwner !== this.systemdOwner) {
        this.subscribe().then(
          () => this.emit("reconnected"),
          (err: Error) =>
            this.lose(`re-subscribing after systemd changed its bus name failed: ${err.message}`),
        );
      }
      return;
    }
    if (m.member === "PropertiesChanged" && m.path?.startsWith("/org/freedesktop/systemd1/unit/")) {
      this.emit("changed", m.path);
    } else if (m.member === "JobRemoved" && typeof m.body[2] === "string") {
      this.emit("jobRemoved", m.body[2], String(m.body[3]));
    }
  }

  /** LoadUnit also answers for units that do not exist (LoadState "not-found"), so nothing is missed. */
  async loadUnit(name: string): Promise<string> {
    const [path] = await this.call(SYSTEMD, MANAGER_PATH, MANAGER, "LoadUnit", "s", [name]);
    return String(path);
  }

  private async getAll(path: string, iface: string): Promise<Record<string, unknown>> {
    try {
      const [props] = await this.call(SYSTEMD, path, PROPS, "GetAll", "s", [iface]);
      return props as Record<string, unknown>;
    } catch (err) {
      // Non-service units have no Service interface.
      if ((err as { type?: string }).type === "org.freedesktop.DBus.Error.UnknownInterface") return {};
      if (iface.endsWith(".Service") && (err as { type?: string }).type) return {};
      throw err;
    }
  }

  async snapshot(name: string, path: string): Promise<UnitSnapshot> {
    const unit = await this.getAll(path, "org.freedesktop.systemd1.Unit");
    const svc = name.endsWith(".service") ? await this.getAll(path, "org.freedesktop.systemd1.Service") : {};
    const get = (o: Record<string, unknown>, k: string) => unwrap(o[k]);
    return {
      name,
      path,
      loadState: String(get(unit, "LoadState") ?? ""),
      activeState: String(get(unit, "ActiveState") ?? ""),
      subState: String(get(unit, "SubState") ?? ""),
      result: String(get(svc, "Result") ?? ""),
      type: String(get(svc, "Type") ?? ""),
      nRestarts: Number(get(svc, "NRestarts") ?? 0),
      activeEnterMonotonic: BigInt(
        (get(unit, "ActiveEnterTimestampMonotonic") as bigint | number | undefined) ?? 0,
      ),
      execMainExitMonotonic: BigInt(
        (get(svc, "ExecMainExitTimestampMonotonic") as bigint | number | undefined) ?? 0,
      ),
      execMainStatus: Number(get(svc, "ExecMainStatus") ?? 0),
    };
  }

  async managerProperty(name: string): Promise<unknown> {
    const [v] = await this.call(SYSTEMD, MANAGER_PATH, PROPS, "Get", "ss", [MANAGER, name]);
    return unwrap(v);
  }

  async startUnit(name: string, mode: string): Promise<void> {
    await this.call(SYSTEMD, MANAGER_PATH, MANAGER, "StartUnit", "ss", [name, mode]);
  }
}
