import { describe, expect, it } from "vitest";
import { EffectRunner } from "../../src/actions/runner.js";
import { BootwardenError, errnoText, isCode } from "../../src/base/errors.js";
import type { ActionEffect, DoneKey } from "../../src/core/assessment.js";

describe("effect runner", () => {
  const effects: ActionEffect[] = [
    { type: "flag", which: "unhealthy", reason: "r" },
    { type: "hooks", which: "red" },
    { type: "rollback" },
  ];

  it("runs each action once, in order, saving after each", async () => {
    const done: DoneKey[] = [];
    const ran: string[] = [];
    const saved: string[][] = [];
    const r = new EffectRunner(
      done,
      async (e) => {
        ran.push(e.type);
        return true;
      },
      async () => void saved.push([...done]),
      (err) => {
        throw err;
      },
    );
    r.enqueue(effects);
    r.enqueue(effects);
    await r.idle();
    expect(ran).toEqual(["flag", "hooks", "rollback"]);
    expect(saved).toEqual([
      ["flag:unhealthy"],
      ["flag:unhealthy", "hooks:red"],
      ["flag:unhealthy", "hooks:red", "rollback"],
    ]);
  });

  it("skips what is recorded as done, and does not record an action that did not happen", async () => {
    const done: DoneKey[] = ["flag:unhealthy"];
    const ran: string[] = [];
    const r = new EffectRunner(
      done,
      async (e) => {
        ran.push(e.type);
        return e.type !== "rollback";
      },
      async () => undefined,
      () => undefined,
    );
    r.enqueue(effects);
    await r.idle();
    expect(ran).toEqual(["hooks", "rollback"]);
    expect(done).toEqual(["flag:unhealthy", "hooks:red"]);
  });

  it("an action that throws stops the batch and is reported, not swallowed", async () => {
    const errors: string[] = [];
    const r = new EffectRunner(
      [],
      async (e) => {
        if (e.type === "hooks") throw new Error("boom");
        return true;
      },
      async () => undefined,
      (err) => errors.push(err.message),
    );
    r.enqueue(effects);
    await r.idle();
    expect(errors).toEqual(["boom"]);
  });
});

describe("errors", () => {
  it("carry a domain and a code; callers branch on the code", () => {
    const e = new BootwardenError("gpt", "refused", "/dev/vda: no fallback");
    expect(e.message).toBe("gpt: /dev/vda: no fallback");
    expect(isCode(e, "refused")).toBe(true);
    expect(isCode(new Error("refused"), "refused")).toBe(false);
    expect(new BootwardenError("cli", "usage", "x").exitCode).toBe(2);
    expect(new BootwardenError("config", "invalid", "x").exitCode).toBe(78);
  });

  it("errno text is the code when there is one", () => {
    expect(errnoText(Object.assign(new Error("x"), { code: "EACCES" }))).toBe("EACCES");
    expect(errnoText(new Error("plain"))).toBe("plain");
  });
});
