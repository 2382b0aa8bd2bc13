import dbus from "dbus-next";
import { type PropertyBag, READ_PROPERTIES } from "../core/unit-rules.js";

const { Variant } = dbus;

export function unwrap(v: unknown): unknown {
  return v instanceof Variant ? (v as InstanceType<typeof Variant>).value : v;
}

/** Only the properties the checks read: a unit's bags carry ~30 (signal) to ~200 (GetAll) others, kept by nobody. */
export function unwrapRead(bag: Record<string, unknown> | undefined): PropertyBag {
  const out: PropertyBag = {};
  if (!bag) return out;
  for (const k of READ_PROPERTIES) if (bag[k] !== undefined) out[k] = unwrap(bag[k]);
  return out;
}
