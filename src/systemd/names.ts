/** The bus names, paths and match rules bootwarden speaks to systemd and the bus with. */
export const SYSTEMD = "org.freedesktop.systemd1";
export const BUS = "org.freedesktop.DBus";
export const MANAGER_PATH = "/org/freedesktop/systemd1";
export const MANAGER = "org.freedesktop.systemd1.Manager";
export const PROPS = "org.freedesktop.DBus.Properties";
export const PROPS_RULE = `type='signal',sender='${SYSTEMD}',interface='${PROPS}',member='PropertiesChanged'`;
export const JOBS_RULE = `type='signal',sender='${SYSTEMD}',interface='${MANAGER}',member='JobRemoved'`;

const UNIT_PATH = `${MANAGER_PATH}/unit/`;

/**
 * The unit's own name (its Id) from the object path LoadUnit answers with: systemd encodes the name there, every
 * byte other than [A-Za-z0-9] as "_" and two hex digits. Asked for by an alias, LoadUnit answers with the unit's own
 * path, and systemd's JobRemoved names the unit by its own name too. Undefined for any other path.
 */
export function unitNameOfPath(path: string): string | undefined {
  if (!path.startsWith(UNIT_PATH)) return undefined;
  const encoded = path.slice(UNIT_PATH.length);
  if (!/^(?:[A-Za-z0-9]|_[0-9a-f]{2})+$/.test(encoded)) return undefined;
  const bytes = encoded.match(/_[0-9a-f]{2}|[A-Za-z0-9]/g) ?? [];
  return Buffer.from(
    bytes.map((b) => (b.length === 3 ? Number.parseInt(b.slice(1), 16) : b.charCodeAt(0))),
  ).toString("utf8");
}

/** The object path systemd gives the unit of this name (sd_bus_path_encode): the inverse of unitNameOfPath. */
export const unitPath = (name: string): string =>
  UNIT_PATH +
  [...Buffer.from(name)]
    .map((b) =>
      /[A-Za-z0-9]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `_${b.toString(16).padStart(2, "0")}`,
    )
    .join("");
