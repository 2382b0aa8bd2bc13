import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/base/log.js";

// Outside journald (no JOURNAL_STREAM) the records are JSON lines; the journal path is exercised by the nspawn tier.
function lines(env: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const log = createLogger("bootwarden", env, (l) => void out.push(l));
  return { log, records: () => out.map((l) => JSON.parse(l) as Record<string, unknown>), out };
}

describe("the logger", () => {
  it("writes one JSON line per record with its level number, time, fields and message", () => {
    const { log, records, out } = lines({});
    log.info({ MESSAGE_ID: "abc", slot: "USR-B" }, "marked good");
    log.error("lost the bus");
    expect(out.every((l) => l.endsWith("}\n") && !l.slice(0, -1).includes("\n"))).toBe(true);
    const [a, b] = records() as [Record<string, unknown>, Record<string, unknown>];
    expect(a).toMatchObject({ level: 30, MESSAGE_ID: "abc", slot: "USR-B", msg: "marked good" });
    expect(typeof a.time).toBe("number");
    expect(b).toMatchObject({ level: 50, msg: "lost the bus" });
    expect(Object.keys(b).sort()).toEqual(["level", "msg", "time"]);
  });

  it("a field named msg or level does not replace the record's own", () => {
    const { log, records } = lines({});
    log.warn({ msg: "other", level: 99 }, "the message");
    expect(records()[0]).toMatchObject({ level: 40, msg: "the message" });
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
