/** CLOCK_MONOTONIC milliseconds (systemd's unit timestamps are on it) and timers on the same clock. */
export interface Clock {
  now(): number;
  after(ms: number, fn: () => void): { cancel(): void };
}

export const realClock: Clock = {
  now: () => Number(process.hrtime.bigint() / 1_000_000n),
  after(ms, fn) {
    // setTimeout holds at most 2^31-1 ms; longer waits are re-armed in steps.
    const MAX = 2 ** 31 - 1;
    let t: NodeJS.Timeout;
    const arm = (left: number) => {
      t = setTimeout(() => (left > MAX ? arm(left - MAX) : fn()), Math.min(Math.max(0, left), MAX));
    };
    arm(ms);
    return { cancel: () => clearTimeout(t) };
  },
};
