import v8 from "node:v8";
import vm from "node:vm";

let gc: (() => void) | undefined;

/**
 * One full collection, then V8's memory reducer switched off for the rest of the process. The reducer meant to do
 * this after the verdict, but in an idle daemon it judges the allocation rate by samples that stopped coming: on
 * Node 24 it found it "high" every 8 s for 100 s after the last collection and collected nothing, waking the daemon
 * each time (bench: idle wake-ups per 60 s, `--trace-memory-reducer`). The daemon knows when it is idle: it collects
 * then itself, before it gives memory back (ReleaseSchedule), and again after a later burst.
 *
 * Both flags are set after start-up, which Node allows (v8.setFlagsFromString): `--expose-gc` only reaches contexts
 * created afterwards, hence the function taken from a new one; `--no-memory-reducer` makes the reducer's next step
 * end its cycle.
 */
export function collectAndQuiet(): void {
  if (!gc) {
    v8.setFlagsFromString("--expose-gc");
    gc = vm.runInNewContext("gc") as () => void;
    v8.setFlagsFromString("--no-memory-reducer");
  }
  gc();
}
