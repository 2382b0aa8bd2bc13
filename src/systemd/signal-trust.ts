import type dbus from "dbus-next";
import { BUS } from "./names.js";

type Msg = InstanceType<typeof dbus.Message>;

const HELD_LIMIT = 4096;

/**
 * Which signals count: only those from the bus itself (NameOwnerChanged) and from the connection that owns systemd's
 * name. Any user may send a signal to our unique name (the system bus's default policy), and a match rule's sender=
 * does not filter a signal sent to us directly; dbus-daemon stamps every message's sender, so it cannot be forged.
 */
export class SignalTrust {
  private owner = "";
  /** Signals that came before systemd's owner was known: judged once it is. */
  private held: Msg[] | undefined = [];

  constructor(
    private readonly deliver: (m: Msg) => void,
    private readonly foreign: (sender: string, what: string) => void,
  ) {}

  get systemdOwner(): string {
    return this.owner;
  }

  /**
   * systemd's connection, from GetNameOwner's answer or from NameOwnerChanged. The first answer alone counts, not
   * Subscribe's that goes with it: the unit match rules and reads sent in the same round trip bring signals that
   * dbus-next may hand over before the answer's continuation runs. Those are held until now, not dropped.
   */
  ownerIs(owner: string): void {
    this.owner = owner;
    const held = this.held ?? [];
    this.held = undefined;
    for (const m of held) this.receive(m);
  }

  receive(m: Msg): void {
    // Held for a round trip to dbus-daemon at most; past the limit they are judged at once, so count as foreign.
    if (this.held && m.sender !== BUS && this.held.length < HELD_LIMIT) {
      this.held.push(m);
      return;
    }
    // The bus itself: NameOwnerChanged, and NameAcquired for our own name after Hello.
    if (m.sender === BUS || (m.sender && m.sender === this.owner && m.member !== "NameOwnerChanged"))
      this.deliver(m);
    else this.foreign(String(m.sender ?? ""), `${m.interface ?? ""}.${m.member ?? ""} on ${m.path ?? ""}`);
  }
}
