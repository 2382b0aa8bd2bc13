import type { LogLevel } from "../base/log.js";
import { MessageId } from "../base/message-ids.js";
import type { ReportEffect } from "./assessment.js";

/** A journal record: level, structured fields (MESSAGE_ID, BOOTWARDEN_*) and the message. */
export interface JournalRecord {
  level: LogLevel;
  fields: { [key: string]: string | number | undefined };
  msg: string;
}

/** How a reported effect reads in the journal. */
export function recordOf(e: ReportEffect, slot: string, now: number): JournalRecord {
  switch (e.type) {
    case "check": {
      const c = e.check;
      const f = {
        BOOTWARDEN_SLOT: slot,
        BOOTWARDEN_CHECK: c.def.id,
        ...(c.def.kind === "unit" ? { OBJECT_SYSTEMD_UNIT: c.def.target } : {}),
      };
      if (c.status === "passed")
        return {
          level: "info",
          fields: {
            MESSAGE_ID: MessageId.checkPassed,
            ...f,
            BOOTWARDEN_UP_SINCE_MONOTONIC_MS: c.upSince,
            BOOTWARDEN_SEEN_MONOTONIC_MS: now,
          },
          msg: `check ${c.def.id} passed: ${c.detail}`,
        };
      if (c.status === "failed")
        return {
          level: "error",
          fields: { MESSAGE_ID: MessageId.checkFailed, ...f },
          msg: `check ${c.def.id} failed: ${c.detail}`,
        };
      return { level: "debug", fields: f, msg: `check ${c.def.id}: ${c.status} (${c.detail})` };
    }
    case "lateFailure":
      return {
        level: "error",
        fields: {
          MESSAGE_ID: MessageId.lateFailure,
          BOOTWARDEN_SLOT: slot,
          BOOTWARDEN_CHECK: e.check.def.id,
        },
        msg: e.normalBoot
          ? `${e.check.def.id} failed on this normal boot: ${e.check.detail} (not a trial: nothing to roll back)`
          : `after the verdict: ${e.check.def.id} failed: ${e.check.detail} (the verdict stands; no rollback)`,
      };
    case "verdict":
      return {
        level: e.verdict === "healthy" ? "info" : e.verdict === "degraded" ? "warn" : "error",
        fields: { MESSAGE_ID: MessageId.verdict, BOOTWARDEN_SLOT: slot, BOOTWARDEN_VERDICT: e.verdict },
        msg: `verdict for trial boot of ${slot}: ${e.verdict}: ${e.reason}`,
      };
  }
}
