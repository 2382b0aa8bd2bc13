import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/base/log.js";

// Outside journald (no JOURNAL_STREAM) pino's JSON lines; the journald path against a real journald is in the
// nspawn tier (test/system/e2e-nspawn.test.ts, journalctl -o json).
function lines(env: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const err: string[] = [];
  const log = createLogger(
    "bootwarden",
    env,
    (l) => void out.push(l),
    (l) => void err.push(l),
  );
  return { log, records: () => out.map((l) => JSON.parse(l) as Record<string, unknown>), out, err };
}

describe("the logger (pino)", () => {
  it("writes one JSON line per record with its level number, time, name, fields and message", () => {
    const { log, records, out } = lines({});
    log.info({ MESSAGE_ID: "abc", slot: "USR-B" }, "marked good");
    log.error("lost the bus");
    expect(out.every((l) => l.endsWith("}\n") && !l.slice(0, -1).includes("\n"))).toBe(true);
    const [a, b] = records() as [Record<string, unknown>, Record<string, unknown>];
    expect(a).toMatchObject({
      level: 30,
      name: "bootwarden",
      MESSAGE_ID: "abc",
      slot: "USR-B",
      msg: "marked good",
    });
    expect(typeof a.time).toBe("number");
    expect(b).toMatchObject({ level: 50, msg: "lost the bus" });
    expect(Object.keys(b).sort()).toEqual(["level", "msg", "name", "time"]);
  });

  it("a child logger carries its bindings into every record", () => {
    const { log, records } = lines({});
    const hook = log.child({ BOOTWARDEN_HOOK_UNIT: "bootwarden-hook-red-x.service" });
    hook.warn({ MESSAGE_ID: "m" }, "ended with failed");
    expect(records()[0]).toMatchObject({
      BOOTWARDEN_HOOK_UNIT: "bootwarden-hook-red-x.service",
      MESSAGE_ID: "m",
      level: 40,
      msg: "ended with failed",
    });
  });

  it("a field named msg, level, time or name does not replace the record's own", () => {
    const { log, out } = lines({});
    log.warn({ msg: "other", level: 99, time: 1, name: "x" }, "the message");
    // Duplicate keys would let JSON.parse take the last one: there must be one of each.
    for (const k of ["msg", "level", "time", "name"]) expect(out[0]!.split(`"${k}":`).length).toBe(2);
    expect(JSON.parse(out[0]!)).toMatchObject({ level: 40, msg: "the message", name: "bootwarden" });
  });

  it("drops records below BOOTWARDEN_LOG_LEVEL", () => {
    const { log, records } = lines({ BOOTWARDEN_LOG_LEVEL: "warn" });
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    expect(records().map((r) => r.msg)).toEqual(["w", "e"]);
    const dbg = lines({ BOOTWARDEN_LOG_LEVEL: "debug" });
    dbg.log.debug("d");
    expect(dbg.records().map((r) => r.level)).toEqual([20]);
  });

  it("an unknown level is named in a warning and info is used", () => {
    for (const bad of ["verbose", "toString", ""]) {
      const { log, records } = lines({ BOOTWARDEN_LOG_LEVEL: bad });
      log.debug("hidden");
      log.info("shown");
      expect(records().map((r) => r.msg)).toEqual([
        `BOOTWARDEN_LOG_LEVEL: unknown level "${bad}" (debug, info, warn, error); using info`,
        "shown",
      ]);
    }
  });
});
