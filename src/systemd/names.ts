/** The bus names, paths and match rules bootwarden speaks to systemd and the bus with. */
export const SYSTEMD = "org.freedesktop.systemd1";
export const BUS = "org.freedesktop.DBus";
export const MANAGER_PATH = "/org/freedesktop/systemd1";
export const MANAGER = "org.freedesktop.systemd1.Manager";
export const PROPS = "org.freedesktop.DBus.Properties";
export const PROPS_RULE = `type='signal',sender='${SYSTEMD}',interface='${PROPS}',member='PropertiesChanged'`;
export const JOBS_RULE = `type='signal',sender='${SYSTEMD}',interface='${MANAGER}',member='JobRemoved'`;
