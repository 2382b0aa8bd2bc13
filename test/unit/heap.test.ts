// The one collection after the verdict loads node:v8 and node:vm when it runs, not at start: the daemon's whole
// module graph (the built code, in a child of the same Node) loads without them, and the collection then works.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

const DIST = path.resolve(import.meta.dirname, "../../dist");

const CHILD = `
  const dist = process.argv[1];
  const has = () => process.moduleLoadList.filter((m) => /^NativeModule (v8|vm)$/.test(m));
  await import(dist + "/commands/daemon.js");
  const atStart = has();
  const { collectGarbage } = await import(dist + "/memory/heap.js");
  collectGarbage();
  collectGarbage();
  console.log(JSON.stringify({ atStart, afterCollection: has().sort() }));
`;

describe("the heap's one collection", () => {
  it("loads node:v8 and node:vm only when it runs", () => {
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", CHILD, DIST], {
      encoding: "utf8",
    });
    expect(JSON.parse(out)).toEqual({ atStart: [], afterCollection: ["NativeModule v8", "NativeModule vm"] });
  });
});
