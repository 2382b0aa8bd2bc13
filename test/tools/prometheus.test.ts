// The shipped alert rules, judged by Debian's promtool: they parse, and each alert fires and stays silent where
// packaging/prometheus/bootwarden.rules.test.yml says. Needs promtool (Debian's prometheus; scripts/setup.sh).
import { execFileSync } from "node:child_process";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO, requireTool } from "../helpers/tools.js";

const DIR = path.join(REPO, "packaging/prometheus");
const promtool = (...args: string[]) =>
  execFileSync("promtool", args, { cwd: DIR, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

beforeAll(() => requireTool("promtool"));

describe("packaging/prometheus", () => {
  it("promtool check rules accepts the alert rules", () => {
    expect(promtool("check", "rules", "bootwarden.rules.yml")).toMatch(/SUCCESS: 4 rules found/);
  });

  it("promtool test rules: each alert fires and stays silent as the test file says", () => {
    expect(promtool("test", "rules", "bootwarden.rules.test.yml")).toMatch(/SUCCESS/);
  });
});
