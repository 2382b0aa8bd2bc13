/**
 * Times as systemd's tools print them (`systemctl status`: "Thu 2026-12-03 06:10:00 UTC; 4min ago"), in the local
 * time zone. Pure: the zone's name comes from the runtime's Intl data.
 */
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const two = (n: number) => String(n).padStart(2, "0");

export function systemdTime(ms: number): string {
  const d = new Date(ms);
  const zone =
    new Intl.DateTimeFormat("en-US", { timeZoneName: "short" })
      .formatToParts(d)
      .find((p) => p.type === "timeZoneName")?.value ?? "";
  return (
    `${DAYS[d.getDay()]} ${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}${zone ? ` ${zone}` : ""}`
  );
}

/** "4min 2s" the way systemd words a span: the two largest units. */
export function systemdSpan(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const parts: [number, string][] = [
    [Math.floor(s / 86400), "d"],
    [Math.floor((s % 86400) / 3600), "h"],
    [Math.floor((s % 3600) / 60), "min"],
    [s % 60, "s"],
  ];
  const used = parts.filter(([n]) => n > 0).slice(0, 2);
  return used.length ? used.map(([n, u]) => `${n}${u}`).join(" ") : "0s";
}
