// The mark's path loads nothing Node only loads at its first use (the `performance` global's perf_hooks: 1.5 ms;
// Node 20's rimraf behind rm/rmSync): a real mark-good, flag and login-notice removal on a real GPT image, in a child
// process of the built code, then the modules Node loaded on the way.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeFlatcarDisk, REPO, sh, tempDir } from "../helpers/tools.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

const CHILD = String.raw`
  const dist = process.argv[1];
  const [{ GptBackend }, { FileFlagWriter }, { FileMotd }] = await Promise.all([
    import(dist + "/bootstate/gpt/backend.js"),
    import(dist + "/actions/flag-writer.js"),
    import(dist + "/actions/motd.js"),
  ]);
  const backend = new GptBackend({ backend: "gpt", disk: "/disk.img", booted: "PARTLABEL=USR-B",
    partitionType: "5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6", cmdline: "/proc/cmdline", tries: 1 });
  await backend.read();
  await backend.prepareWrite();
  const motd = new FileMotd();
  await motd.show("bootwarden: trial boot");
  const before = new Set(process.moduleLoadList);
  const r = await backend.markGood();
  await new FileFlagWriter().write("healthy", "all checks hold");
  await motd.show(undefined);
  console.log(JSON.stringify({ message: r.message, loaded: process.moduleLoadList.filter((m) => !before.has(m)) }));
`;

describe("the mark's path", () => {
  it("marks, writes the flag and removes the notice without loading perf_hooks or rimraf on the way", () => {
    const disk = path.join(dir, "disk.img");
    makeFlatcarDisk(disk);
    sh("cgpt", ["add", "-i", "2", "-P", "2", "-T", "1", "-S", "0", disk]);
    mkdirSync(path.join(dir, "run/bootwarden"), { recursive: true });
    mkdirSync(path.join(dir, "run/motd.d"), { recursive: true });
    const out = execFileSync(
      process.execPath,
      ["--input-type=module", "-e", CHILD, path.join(REPO, "dist")],
      {
        encoding: "utf8",
        env: { ...process.env, BOOTWARDEN_ROOT: dir },
      },
    );
    const { message, loaded } = JSON.parse(out) as { message: string; loaded: string[] };
    expect(message).toBe("marked PARTLABEL=USR-B good on /disk.img");
    expect(loaded.filter((m) => /perf_hooks|rimraf/.test(m))).toEqual([]);
  });
});
