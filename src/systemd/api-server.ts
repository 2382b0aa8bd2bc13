import dbus from "dbus-next";
import { describeError } from "../base/errors.js";
import { API_SIGNATURES, type ApiProperties } from "../core/api-view.js";
import { API, type ApiHandlers, type ApiService } from "./api.js";
import type { SystemdClient } from "./bus.js";
import { BUS } from "./names.js";

const { Message, Variant } = dbus;
type Msg = InstanceType<typeof Message>;
type MessageBus = ReturnType<typeof dbus.systemBus>;
type Call = (
  dest: string,
  path: string,
  iface: string,
  member: string,
  sig?: string,
  body?: unknown[],
) => Promise<unknown[]>;

const PROPS = "org.freedesktop.DBus.Properties";
const DENIED = "org.freedesktop.DBus.Error.AccessDenied";

const INTROSPECTION = `<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
<node>
 <interface name="${API.iface}">
${Object.entries(API_SIGNATURES)
  .map(([n, t]) => `  <property name="${n}" type="${t}" access="read"/>`)
  .join("\n")}
  <method name="GetStatus"><arg name="status" type="a{sv}" direction="out"/></method>
  <method name="MarkGood"><arg name="interactive" type="b" direction="in"/><arg name="message" type="s" direction="out"/></method>
  <method name="MarkBad"><arg name="reason" type="s" direction="in"/><arg name="interactive" type="b" direction="in"/><arg name="message" type="s" direction="out"/></method>
  <signal name="VerdictReached"><arg name="verdict" type="s"/><arg name="reason" type="s"/></signal>
 </interface>
 <interface name="${PROPS}">
  <method name="Get"><arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="v" direction="out"/></method>
  <method name="GetAll"><arg type="s" direction="in"/><arg type="a{sv}" direction="out"/></method>
  <method name="Set"><arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="v" direction="in"/></method>
  <signal name="PropertiesChanged"><arg type="s"/><arg type="a{sv}"/><arg type="as"/></signal>
 </interface>
 <interface name="org.freedesktop.DBus.Introspectable">
  <method name="Introspect"><arg type="s" direction="out"/></method>
 </interface>
 <interface name="org.freedesktop.DBus.Peer">
  <method name="Ping"/>
 </interface>
</node>
`;

/** JSON as D-Bus variants: objects a{sv}, arrays av, whole numbers x, others d; nulls are left out (compact). */
export function toVariant(v: unknown): InstanceType<typeof Variant> {
  if (typeof v === "string") return new Variant("s", v);
  if (typeof v === "boolean") return new Variant("b", v);
  if (typeof v === "number")
    return Number.isSafeInteger(v) ? new Variant("x", BigInt(v)) : new Variant("d", v);
  if (Array.isArray(v)) return new Variant("av", v.map(toVariant));
  return new Variant("a{sv}", toDict(v as Record<string, unknown>));
}

export const toDict = (o: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(o)
      .filter(([, x]) => x !== null && x !== undefined)
      .map(([k, x]) => [k, toVariant(x)]),
  );

/** The inverse of toVariant. */
export function fromVariant(v: unknown): unknown {
  if (v instanceof Variant) return fromVariant(v.value);
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(fromVariant);
  if (typeof v === "object" && v !== null)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromVariant(x)]));
  return v;
}

/**
 * bootwarden's API on the daemon's bus connection, in plain messages (dbus-next's exported interfaces cannot see the
 * caller, make properties writable by default and leak stacks in errors). Everyone may read (the bus policy lets
 * them call Introspect, Get, GetAll, GetStatus); MarkGood and MarkBad ask who called: root, or whom polkit allows
 * for the mark action. Set is refused to everyone: the properties are the status the daemon saved, nothing else.
 */
export class BusApiServer implements ApiService {
  private props: ApiProperties;

  constructor(
    private readonly bus: MessageBus,
    private readonly call: Call,
    private readonly h: ApiHandlers,
    initial: ApiProperties,
  ) {
    this.props = initial;
  }

  async start(): Promise<this> {
    // The handler first, then the name: a call that comes as soon as the name is ours is answered.
    this.bus.addMethodHandler((m: Msg) => this.onCall(m));
    const [r] = (await this.call(BUS, "/org/freedesktop/DBus", BUS, "RequestName", "su", [API.name, 4])) as [
      number,
    ];
    if (r !== 1) throw new Error(`cannot own ${API.name} (RequestName: ${r}): another process holds it`);
    return this;
  }

  publish(p: ApiProperties): void {
    const changed = (Object.keys(p) as (keyof ApiProperties)[]).filter(
      (k) => JSON.stringify(p[k], big) !== JSON.stringify(this.props[k], big),
    );
    this.props = p;
    if (changed.length === 0) return;
    const body = Object.fromEntries(changed.map((k) => [k, new Variant(API_SIGNATURES[k], p[k])]));
    this.signal(PROPS, "PropertiesChanged", "sa{sv}as", [API.iface, body, []]);
  }

  verdictReached(verdict: string, reason: string): void {
    this.signal(API.iface, "VerdictReached", "ss", [verdict, reason]);
  }

  private signal(iface: string, member: string, signature: string, body: unknown[]) {
    this.bus.send(
      new Message({
        type: dbus.MessageType.SIGNAL,
        path: API.path,
        interface: iface,
        member,
        signature,
        body,
      }),
    );
  }

  private reply(m: Msg, signature = "", body: unknown[] = []) {
    this.bus.send(Message.newMethodReturn(m, signature, body));
  }

  private fail(m: Msg, name: string, text: string) {
    // dbus-next's types declare the first argument a string; it is the call being answered.
    const newError = Message.newError as unknown as (call: Msg, name: string, text: string) => Msg;
    this.bus.send(newError(m, name, text));
  }

  private onCall(m: Msg): boolean {
    if (m.path !== API.path) {
      // The path's parents, so that `busctl tree` finds it.
      if (!m.path || !API.path.startsWith(m.path === "/" ? "/" : `${m.path}/`)) return false;
      if (m.interface !== "org.freedesktop.DBus.Introspectable") return false;
      const child = API.path.slice(m.path === "/" ? 1 : m.path.length + 1).split("/")[0];
      this.reply(m, "s", [`<node><node name="${child}"/></node>`]);
      return true;
    }
    const key = `${m.interface}.${m.member}`;
    switch (key) {
      case "org.freedesktop.DBus.Introspectable.Introspect":
        this.reply(m, "s", [INTROSPECTION]);
        return true;
      case "org.freedesktop.DBus.Peer.Ping":
        this.reply(m);
        return true;
      case `${PROPS}.Get`: {
        const [iface, name] = m.body as [string, string];
        const k = name as keyof ApiProperties;
        if (iface !== API.iface || !(k in API_SIGNATURES))
          this.fail(m, "org.freedesktop.DBus.Error.UnknownProperty", `no property ${iface}.${name}`);
        else this.reply(m, "v", [new Variant(API_SIGNATURES[k], this.props[k])]);
        return true;
      }
      case `${PROPS}.GetAll`: {
        const all = Object.entries(this.props).map(([k, v]) => [
          k,
          new Variant(API_SIGNATURES[k as keyof ApiProperties], v),
        ]);
        this.reply(m, "a{sv}", [m.body[0] === API.iface ? Object.fromEntries(all) : {}]);
        return true;
      }
      case `${PROPS}.Set`:
        this.fail(m, "org.freedesktop.DBus.Error.PropertyReadOnly", "bootwarden's properties are read-only");
        return true;
      case `${API.iface}.GetStatus`:
        this.answer(m, "a{sv}", async () => [toDict(await this.h.getStatus())]);
        return true;
      case `${API.iface}.MarkGood`:
        this.answer(m, "s", async () => [await this.mark(m, "good", "", Boolean(m.body[0]))]);
        return true;
      case `${API.iface}.MarkBad`:
        this.answer(m, "s", async () => [await this.mark(m, "bad", String(m.body[0]), Boolean(m.body[1]))]);
        return true;
      default:
        return false;
    }
  }

  private answer(m: Msg, signature: string, fn: () => Promise<unknown[]>) {
    fn().then(
      (body) => this.reply(m, signature, body),
      (err: unknown) =>
        err instanceof Denied
          ? this.fail(m, DENIED, err.message)
          : this.fail(m, "io.github.bootwarden1.Error.Failed", describeError(err)),
    );
  }

  private async mark(m: Msg, which: "good" | "bad", reason: string, interactive: boolean): Promise<string> {
    await this.authorize(m.sender ?? "", interactive);
    return this.h.mark(which, reason);
  }

  /** Root may mark; anyone else only as polkit allows the mark action. No polkit: root alone. */
  private async authorize(sender: string, interactive: boolean): Promise<void> {
    const [uid] = (await this.call(BUS, "/org/freedesktop/DBus", BUS, "GetConnectionUnixUser", "s", [
      sender,
    ])) as [number];
    if (uid === 0) return;
    let allowed = false;
    try {
      const [result] = (await this.call(
        "org.freedesktop.PolicyKit1",
        "/org/freedesktop/PolicyKit1/Authority",
        "org.freedesktop.PolicyKit1.Authority",
        "CheckAuthorization",
        "(sa{sv})sa{ss}us",
        [
          ["system-bus-name", { name: new Variant("s", sender) }],
          API.markAction,
          {},
          interactive ? 1 : 0,
          "",
        ],
      )) as [[boolean, boolean, Record<string, string>]];
      allowed = result[0];
    } catch (err) {
      throw new Denied(`only root may mark here (polkit did not answer: ${describeError(err)})`);
    }
    if (!allowed) throw new Denied(`uid ${uid} is not allowed to mark (polkit action ${API.markAction})`);
  }
}

class Denied extends Error {}

/** Serves the API on the daemon's own connection to the system bus. */
export const serveApi = (c: SystemdClient, h: ApiHandlers, initial: ApiProperties): Promise<ApiService> =>
  new BusApiServer(c.bus, (...a) => c.call(...a), h, initial).start();

const big = (_: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);
