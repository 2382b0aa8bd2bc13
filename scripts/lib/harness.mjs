// End-to-end harness: boots a debootstrapped Debian with systemd as PID 1 under systemd-nspawn, with bootwarden
// installed by scripts/install.sh, a GPT disk image as the boot state, and a bootloader simulator between boots
// that applies Flatcar's gptprio.next rule with the real cgpt. Needs root. Used by test/system and scripts/demo.mjs.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
// The built code's rules, not copies: the simulated boot loader picks the slot as src's gptprioNext does.
import { gptprioNext } from "../../dist/bootstate/gpt/attributes.js";
import { FLATCAR_USR_TYPE } from "../../dist/config/flatcar.js";

export const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const CACHE = process.env.BOOTWARDEN_E2E_CACHE ?? path.join(REPO, ".cache");
// The name changes with what debootstrap includes, so that a cached tree is never one with fewer packages.
const ROOTFS = path.join(CACHE, "rootfs-bookworm-polkit");
const WORK = process.env.BOOTWARDEN_E2E_WORK ?? path.join(CACHE, "machines");
export const FLATCAR_USR = FLATCAR_USR_TYPE;
export const EXIT_REBOOT = 133; // systemd-nspawn's status when the container asked for a reboot

/** Runs a set-up step; a non-zero exit throws with its stderr, so no step fails unnoticed. */
export const run = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...opts });

export function requireRoot() {
  if (process.getuid?.() !== 0)
    throw new Error("the end-to-end tests need root (systemd-nspawn, debootstrap)");
  for (const tool of ["systemd-nspawn", "debootstrap", "cgpt", "sgdisk"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0)
      throw new Error(`${tool} missing: run scripts/setup.sh`);
  }
}

/**
 * nspawn removes its propagation directory under /run/systemd/nspawn with a safety check that refuses anything that
 * is not a tmpfs; on machines whose /run is a plain directory, give it one.
 */
function prepareHost() {
  mkdirSync("/run/systemd/nspawn", { recursive: true });
  if (spawnSync("mountpoint", ["-q", "/run/systemd/nspawn"]).status !== 0) {
    run("mount", ["-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/run/systemd/nspawn"]);
  }
}

/** The pristine rootfs, built once (about 40 s) and kept in .cache between runs. */
export function ensureRootfs(log = () => {}) {
  prepareHost();
  if (existsSync(path.join(ROOTFS, ".complete"))) return ROOTFS;
  const tmp = `${ROOTFS}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(CACHE, { recursive: true });
  log("building the Debian rootfs with debootstrap (once; cached in .cache/)");
  // polkitd: the D-Bus API's mark action (bus-activated, so it costs a boot nothing unless asked).
  run(
    "debootstrap",
    ["--variant=minbase", "--include=systemd,dbus,systemd-sysv,libpam-systemd,polkitd", "bookworm", tmp],
    {
      stdio: "ignore",
    },
  );
  // Persistent journal, so the host reads each boot's journal after the container is gone.
  mkdirSync(path.join(tmp, "etc/systemd/journald.conf.d"), { recursive: true });
  writeFileSync(
    path.join(tmp, "etc/systemd/journald.conf.d/persistent.conf"),
    "[Journal]\nStorage=persistent\n",
  );
  mkdirSync(path.join(tmp, "var/log/journal"), { recursive: true });
  for (const u of [
    "getty@tty1.service",
    "console-getty.service",
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "e2scrub_all.timer",
    "fstrim.timer",
    "dpkg-db-backup.timer",
    "systemd-timesyncd.service",
  ]) {
    run("systemctl", [`--root=${tmp}`, "mask", u]);
  }
  writeFileSync(path.join(tmp, ".complete"), new Date().toISOString());
  renameSync(tmp, ROOTFS);
  return ROOTFS;
}

const APP = `#!/bin/sh
# The critical application of the test OS: ready after /etc/bootwarden-test/app-delay seconds, unless the booted
# slot is listed in /etc/bootwarden-test/bad-slots.
slot=$(sed -n 's/.*mount.usr=PARTLABEL=\\([^ ]*\\).*/\\1/p' /etc/bootwarden/test-cmdline)
if grep -qx "$slot" /etc/bootwarden-test/bad-slots 2>/dev/null; then echo "app: broken on $slot"; exit 1; fi
sleep "$(cat /etc/bootwarden-test/app-delay 2>/dev/null || echo 0)"
echo "app: up on $slot"
mkdir -p /run/app && touch /run/app/ready
systemd-notify --pid=$$ --ready
exec sleep infinity
`;

/**
 * What Flatcar's ensure-sysext.service does after systemd-sysext merged the extensions (flatcar/init @656181fd,
 * systemd/system/ensure-sysext.service, read there; written here): reload PID 1, then restart sockets.target,
 * timers.target and multi-user.target, nothing else. So a unit an extension brings starts only if one of those wants it.
 */
const ENSURE_SYSEXT = `[Unit]
BindsTo=systemd-sysext.service
After=systemd-sysext.service
DefaultDependencies=no
ConditionDirectoryNotEmpty=|/etc/extensions
ConditionDirectoryNotEmpty=|/var/lib/extensions
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/bin/systemctl daemon-reload
ExecStart=/usr/bin/systemctl restart --no-block sockets.target timers.target multi-user.target
[Install]
WantedBy=sysinit.target
`;

const UNITS = {
  "app.service": `[Unit]
Description=Critical test application
[Service]
Type=notify
NotifyAccess=all
TimeoutStartSec=infinity
ExecStart=/usr/local/bin/test-app
[Install]
WantedBy=multi-user.target
`,
  // Stands in for an update agent gated on a healthy boot (packaging/examples).
  "gated.service": `[Unit]
Description=Update agent stand-in, gated on a healthy boot
ConditionPathExists=/run/bootwarden/healthy
After=bootwarden-healthy.target
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo ran > /var/lib/bootwarden-test/gated-ran'
`,
  // Ends a boot: powers off once the boot is blessed (or normal); an unhealthy boot is left to bootwarden (or its
  // backstop) to reboot, which nspawn reports as exit status 133.
  "test-end.service": `[Unit]
Description=End the test boot after the verdict
After=bootwarden.service
[Service]
Type=exec
ExecStart=/usr/local/bin/test-end
[Install]
WantedBy=multi-user.target
`,
};

const END = `#!/bin/sh
bootwarden wait || until [ -e /run/bootwarden/healthy ]; do sleep 0.5; done
sleep 2
systemctl poweroff
`;

/** The bootwarden config the test machines use: the GPT image, the simulated command line, the critical units. */
export function machineConfig({ units = ["app.service"], deadline = "30s", extra = "" } = {}) {
  return `bootState:
  backend: gpt
  disk: /boot/disk.img
  cmdline: /etc/bootwarden/test-cmdline
assessment:
  deadline: ${deadline}
  critical:
    units: [${units.join(", ")}]
${extra}`;
}

/** A 64 MiB disk with USR-A (booted, good), USR-B (empty) and ROOT, as a freshly installed Flatcar has them. */
export function makeFlatcarDisk(file) {
  rmSync(file, { force: true });
  run("truncate", ["-s", "64M", file]);
  const part = (n, start, type, label) => [
    "-n",
    `${n}:${start}`,
    "-t",
    `${n}:${type}`,
    "-c",
    `${n}:${label}`,
  ];
  run("sgdisk", [
    ...part(1, "2048:+16M", FLATCAR_USR, "USR-A"),
    ...part(2, "0:+16M", FLATCAR_USR, "USR-B"),
    ...part(3, "0:0", "8300", "ROOT"),
    file,
  ]);
  run("cgpt", ["add", "-i", "1", "-P", "1", "-T", "0", "-S", "1", file]);
}

/** The image `npm run sysext` built (scripts/test.sh builds it before the tests). */
export function sysextImage() {
  const version = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")).version;
  const image = path.join(REPO, `dist-sysext/bootwarden-${version}-x86-64.raw`);
  if (!existsSync(image)) throw new Error(`${image} missing: run npm run sysext`);
  return image;
}

export class Machine {
  constructor(name) {
    this.name = name;
    this.dir = path.join(WORK, name);
    this.disk = path.join(this.dir, "boot/disk.img");
    this.boots = [];
  }

  /** A fresh copy of the rootfs with node, bootwarden (install.sh), the test units and a Flatcar-like disk image. */
  create({ config, badSlots = [], appDelay = 0, install = "script", image, flatcarReload = false }) {
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(path.dirname(this.dir), { recursive: true });
    run("cp", ["-a", ROOTFS, this.dir]);
    writeFileSync(path.join(this.dir, "etc/hostname"), `${this.name}\n`);
    if (install === "deb") {
      this.installDebs();
    } else if (install === "sysext") {
      // Flatcar's own reload after the merge (flatcar/init's ensure-sysext.service): the installer then adds none.
      if (flatcarReload) {
        writeFileSync(path.join(this.dir, "usr/lib/systemd/system/ensure-sysext.service"), ENSURE_SYSEXT);
        mkdirSync(path.join(this.dir, "etc/systemd/system/sysinit.target.wants"), { recursive: true });
        symlinkSync(
          "/usr/lib/systemd/system/ensure-sysext.service",
          path.join(this.dir, "etc/systemd/system/sysinit.target.wants/ensure-sysext.service"),
        );
      }
      // No Node in this tree: bootwarden brings its own runtime in the extension (unpacked: nspawn has no loop devices).
      this.installLog = run("bash", [
        path.join(REPO, "scripts/install-sysext.sh"),
        "--root",
        this.dir,
        "--unpacked",
        image,
      ]);
    } else if (install === "none") {
      run("cp", [process.execPath, path.join(this.dir, "usr/bin/node")]);
      mkdirSync(path.join(this.dir, "etc/bootwarden"), { recursive: true });
    } else {
      run("cp", [process.execPath, path.join(this.dir, "usr/bin/node")]);
      run("bash", [path.join(REPO, "scripts/install.sh"), "--enable"], {
        env: { ...process.env, DESTDIR: this.dir },
      });
    }
    for (const [name, text] of Object.entries(UNITS))
      writeFileSync(path.join(this.dir, "etc/systemd/system", name), text);
    run("systemctl", [`--root=${this.dir}`, "enable", "app.service", "test-end.service"]);
    // By hand, as `systemctl add-wants` would: with the sysext, bootwarden-healthy.target is only in the image.
    const wants = path.join(this.dir, "etc/systemd/system/bootwarden-healthy.target.wants");
    mkdirSync(wants, { recursive: true });
    symlinkSync("/etc/systemd/system/gated.service", path.join(wants, "gated.service"));
    writeFileSync(path.join(this.dir, "usr/local/bin/test-app"), APP, { mode: 0o755 });
    writeFileSync(path.join(this.dir, "usr/local/bin/test-end"), END, { mode: 0o755 });
    mkdirSync(path.join(this.dir, "etc/bootwarden-test"), { recursive: true });
    mkdirSync(path.join(this.dir, "var/lib/bootwarden-test"), { recursive: true });
    writeFileSync(
      path.join(this.dir, "etc/bootwarden-test/bad-slots"),
      badSlots.map((s) => `${s}\n`).join(""),
    );
    writeFileSync(path.join(this.dir, "etc/bootwarden-test/app-delay"), `${appDelay}\n`);
    this.setConfig(config);
    this.makeDisk();
    return this;
  }

  /**
   * Installs the real .deb with dpkg inside the rootfs. Debian 12 has no Node.js 20, so the host's node is wrapped in
   * a minimal "nodejs" package first: the .deb's Depends: nodejs (>= 20.19) is satisfied, not forced.
   */
  installDebs() {
    const deb = run("bash", [path.join(REPO, "scripts/build/deb.sh")])
      .trim()
      .split("\n")
      .pop();
    const stage = path.join(this.dir, "..", `${this.name}.nodejs`);
    rmSync(stage, { recursive: true, force: true });
    mkdirSync(path.join(stage, "DEBIAN"), { recursive: true });
    mkdirSync(path.join(stage, "usr/bin"), { recursive: true });
    run("cp", [process.execPath, path.join(stage, "usr/bin/node")]);
    const version = process.version.slice(1);
    writeFileSync(
      path.join(stage, "DEBIAN/control"),
      `Package: nodejs\nVersion: ${version}\nArchitecture: amd64\nMaintainer: test <test@localhost>\nDescription: Node.js ${version} from the test host\n`,
    );
    run("dpkg-deb", [
      "--root-owner-group",
      "-Zgzip",
      "--build",
      stage,
      path.join(this.dir, "tmp/nodejs.deb"),
    ]);
    rmSync(stage, { recursive: true, force: true });
    run("cp", [path.join(REPO, deb), path.join(this.dir, "tmp/bootwarden.deb")]);
    this.dpkgLog = run("chroot", [this.dir, "dpkg", "-i", "/tmp/nodejs.deb", "/tmp/bootwarden.deb"]);
  }

  chroot(...args) {
    return run("chroot", [this.dir, ...args]);
  }

  setConfig(yaml) {
    writeFileSync(path.join(this.dir, "etc/bootwarden/config.yaml"), yaml);
  }

  /**
   * The boot stays up until the daemon, idle after its verdict, has collected its heap (or said it could not), with
   * debug records on: its journal then tells which. At most 40 s more, then the boot ends as usual.
   */
  awaitRelease() {
    const dropin = path.join(this.dir, "etc/systemd/system/bootwarden.service.d");
    mkdirSync(dropin, { recursive: true });
    writeFileSync(
      path.join(dropin, "90-test-debug.conf"),
      "[Service]\nEnvironment=BOOTWARDEN_LOG_LEVEL=debug\n",
    );
    const wait = `for i in $(seq 80); do
  journalctl -b -q -o cat -u bootwarden.service | grep -q -e "idle: collected" -e "could not collect the heap" && break
  sleep 0.5
done
mkdir -p /var/lib/bootwarden-test
systemctl show -p WatchdogUSec --value bootwarden.service > /var/lib/bootwarden-test/watchdog-idle
grep THP_enabled "/proc/$(systemctl show -P MainPID bootwarden.service)/status" > /var/lib/bootwarden-test/thp-idle
`;
    writeFileSync(
      path.join(this.dir, "usr/local/bin/test-end"),
      END.replace("sleep 2\n", `${wait}sleep 1\n`),
      {
        mode: 0o755,
      },
    );
  }

  makeDisk() {
    mkdirSync(path.dirname(this.disk), { recursive: true });
    makeFlatcarDisk(this.disk);
  }

  /** What an updater does after writing the new image: bootwarden's own CLI, against the image from the host. */
  arm(slot, tries = 1) {
    return run("node", [
      path.join(REPO, "dist/cli.js"),
      "arm",
      "--slot",
      `PARTLABEL=${slot}`,
      "--tries",
      String(tries),
      "--config",
      this.hostConfig(),
    ]);
  }

  hostConfig() {
    const f = path.join(this.dir, "..", `${this.name}.host.yaml`);
    writeFileSync(f, `bootState:\n  backend: gpt\n  disk: ${this.disk}\n  booted: PARTLABEL=USR-A\n`);
    return f;
  }

  slots() {
    return [1, 2].map((i) => {
      const get = (flag) => run("cgpt", ["show", "-i", String(i), flag, this.disk]).trim();
      return {
        index: i,
        label: get("-l"),
        priority: Number(get("-P")),
        tries: Number(get("-T")),
        successful: get("-S") === "1",
      };
    });
  }

  /** Flatcar GRUB's gptprio.next (src's rule) on the slots as cgpt reads them, and its tries decrement with cgpt. */
  chooseSlot() {
    const best = gptprioNext(this.slots());
    if (!best) throw new Error("simulated bootloader: no bootable slot");
    if (best.tries > 0)
      run("cgpt", ["add", "-i", String(best.index), "-T", String(best.tries - 1), this.disk]);
    writeFileSync(
      path.join(this.dir, "etc/bootwarden/test-cmdline"),
      `BOOT_IMAGE=/flatcar/vmlinuz mount.usr=PARTLABEL=${best.label} root=LABEL=ROOT\n`,
    );
    return best.label;
  }

  /** One boot: simulate the bootloader, start systemd in the container, wait for it to power off or reboot. */
  async boot({ timeoutMs = 120_000, during } = {}) {
    const slot = this.chooseSlot();
    const t0 = Date.now();
    const child = spawn(
      "systemd-nspawn",
      ["--boot", "--register=no", "--keep-unit", "-q", `--machine=${this.name}`, "-D", this.dir],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let console = "";
    child.stdout.on("data", (d) => (console += d));
    child.stderr.on("data", (d) => (console += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const duringPromise = during ? during(this).catch((e) => e) : Promise.resolve();
    const code = await new Promise((resolve) => child.on("exit", (c, sig) => resolve(c ?? (sig ? 128 : -1))));
    clearTimeout(timer);
    const duringResult = await duringPromise;
    if (duringResult instanceof Error) throw duringResult;
    this.killLeftovers();
    const result = { slot, exit: code, seconds: (Date.now() - t0) / 1000, console };
    this.boots.push(result);
    return result;
  }

  /**
   * The container's processes, as host pids. Inside the container's mount namespace a process's root reads as "/"
   * (then "/ (deleted)"), so it is known by its root directory's device and inode, which are the tree's.
   */
  processes() {
    let tree;
    try {
      tree = statSync(this.dir);
    } catch {
      return [];
    }
    return readdirSync("/proc").filter((pid) => {
      if (!/^\d+$/.test(pid)) return false;
      try {
        if (readlinkSync(`/proc/${pid}/root`) === this.dir) return true;
        const root = statSync(`/proc/${pid}/root`);
        return root.ino === tree.ino && root.dev === tree.dev;
      } catch {
        return false; // gone already, or not ours to read
      }
    });
  }

  /**
   * Processes the container's systemd could not kill (cgroup kill fails under nspawn on this kind of host, "Failed to
   * kill control group ... Input/output error") outlive the container: end every process whose root is our tree.
   */
  killLeftovers() {
    // Repeated until none is left: a process may fork while we scan. Left alone, an orphaned journald or a test
    // loop whose tree was removed spins and starves everything after it on a two-core machine.
    for (let pass = 0; pass < 20; pass++) {
      let found = 0;
      for (const pid of this.processes()) {
        try {
          process.kill(Number(pid), "SIGKILL");
          found++;
        } catch {
          // gone already
        }
      }
      if (found === 0) return;
      spawnSync("sleep", ["0.2"]);
    }
  }

  /** Journal entries of boot N (0-based, in boot order) as objects, read on the host from the persistent journal. */
  journal(bootIndex, ...matches) {
    const dir = path.join(this.dir, "var/log/journal");
    const list = run("journalctl", ["-D", dir, "--list-boots", "--no-pager", "-o", "json"]);
    const boots = JSON.parse(list.trim() || "[]");
    const id = boots[bootIndex]?.boot_id;
    if (!id) return [];
    const out = run("journalctl", ["-D", dir, "-b", id, "-o", "json", "--no-pager", ...matches], {
      maxBuffer: 64 << 20,
    });
    return out
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  }

  file(p) {
    const f = path.join(this.dir, p);
    return existsSync(f) ? readFileSync(f, "utf8") : undefined;
  }

  destroy() {
    this.killLeftovers();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
