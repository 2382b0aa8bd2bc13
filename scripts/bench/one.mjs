// One benchmark boot, for looking into a figure: node scripts/bench/one.mjs host|lts <critical units> <unrelated units>
// [--prof] [--node-options="..."] [--node-args="..."] [--unit="Nice=-5;..."]. Prints the probe's result; --node-options sets the daemon's NODE_OPTIONS (to
// weigh V8 flags); with --prof the daemon runs under --cpu-prof and the trial boot's profile is
// copied to bench/profiles/ (open it in Chrome's DevTools). BENCH_DUMP=1 copies the idle daemon's smaps and its
// threads' names to /tmp/smaps-<runtime>.txt. Needs root, like `npm run bench`.
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { ensureRootfs, REPO, requireRoot } from "../lib/harness.mjs";
import { addFiles, bootOnce, RUNTIMES } from "./machine.mjs";

const [key = "host", critical = "1", unrelated = "0", ...flags] = process.argv.slice(2);
const rt = RUNTIMES.find((r) => r.key === key);
if (!rt) throw new Error(`runtime: host or lts, not ${key}`);
const prof = flags.includes("--prof");
// V8's own flags are refused in NODE_OPTIONS: --node-args puts them on the daemon's command line.
const nodeArgs = (flags.find((f) => f.startsWith("--node-args="))?.slice("--node-args=".length) ?? "")
  .split(" ")
  .filter(Boolean);
const unitSettings = flags.find((f) => f.startsWith("--unit="))?.slice("--unit=".length);
const nodeOptions = flags.find((f) => f.startsWith("--node-options="))?.slice("--node-options=".length);
requireRoot();
ensureRootfs((s) => process.stderr.write(`${s}\n`));
const n = Number(critical);
const units = n === 1 ? ["app.service"] : Array.from({ length: n }, (_, k) => `bench-u${k + 1}.service`);
const PROF_DIR = "var/lib/bootwarden/prof";
// An ExecStart= of our own keeps the daemon's flags: the unit's, and the ones scripts/build/sysext.sh adds for the sysext.
const read = (p) => readFileSync(path.join(REPO, p), "utf8");
const UNIT_FLAGS = /^ExecStart=node (.*)\/usr\/lib\/bootwarden\/bootwarden\.mjs daemon$/m.exec(
  read("units/bootwarden.service"),
)?.[1];
const SYSEXT_FLAGS = /daemon_flags='([^']*)'/.exec(read("scripts/build/sysext.sh"))?.[1];
if (UNIT_FLAGS === undefined || SYSEXT_FLAGS === undefined)
  throw new Error(
    "units/bootwarden.service or scripts/build/sysext.sh: the daemon's flags are not where one.mjs looks",
  );
const r = await bootOnce(
  `one-${key}`,
  {
    runtime: rt,
    critical: units,
    unrelated: Number(unrelated),
    idle: Number(process.env.BENCH_IDLE ?? 0),
    busy: flags.includes("--busy"),
  },
  {
    // Node refuses --cpu-prof in NODE_OPTIONS: the daemon's command line gets it.
    prepare: (m) => {
      if (process.env.BENCH_DUMP) addFiles(m, { "var/lib/bench/dump": "1" });
      // --unit="Key=value;..." adds [Service] settings (e.g. Nice=) to the daemon's unit.
      if (unitSettings)
        addFiles(m, {
          "etc/systemd/system/bootwarden.service.d/settings.conf": `[Service]\n${unitSettings.split(";").join("\n")}\n`,
        });
      if (nodeOptions !== undefined)
        addFiles(m, {
          "etc/systemd/system/bootwarden.service.d/node-options.conf": `[Service]\nEnvironment="NODE_OPTIONS=${nodeOptions}"\n`,
        });
      const args = [...(prof ? ["--cpu-prof", `--cpu-prof-dir=/${PROF_DIR}`] : []), ...nodeArgs];
      if (!args.length) return;
      addFiles(m, {
        "etc/systemd/system/bootwarden.service.d/node-args.conf": `[Service]\nExecStart=\nExecStart=${
          key === "host" ? "/usr/bin/node " : `/usr/lib/bootwarden/node ${SYSEXT_FLAGS}`
        }${UNIT_FLAGS}${args.join(" ")} /usr/lib/bootwarden/bootwarden.mjs daemon\n`,
      });
    },
    collect: (m) => {
      if (process.env.BENCH_DUMP)
        cpSync(path.join(m.dir, "var/lib/bench/smaps.txt"), `/tmp/smaps-${key}.txt`);
      if (!prof) return;
      // The probe powers the machine off: the daemon's profile of the trial boot is the newest.
      const dir = path.join(m.dir, PROF_DIR);
      const newest = readdirSync(dir)
        .map((f) => path.join(dir, f))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
      const out = path.join(REPO, "bench/profiles", `${key}-${n}-${unrelated}.cpuprofile`);
      mkdirSync(path.dirname(out), { recursive: true });
      cpSync(newest, out);
      process.stderr.write(`profile: ${out}\n`);
    },
  },
);
const ms = (a, b) => (a == null || b == null ? null : (a - b) / 1000);
console.log(
  JSON.stringify({
    flagMs: ms(r.flagUs, r.lastActiveUs),
    markMs: ms(r.markedUs, r.lastActiveUs),
    lastWriteMs: ms(r.diskUs, r.lastActiveUs),
    tutorialFlagMs: ms(r.tutorialFlagUs, r.lastActiveUs),
    readyMs: ms(r.readyUs, r.execUs),
    ...r,
  }),
);
