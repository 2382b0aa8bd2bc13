/** Milliseconds on CLOCK_MONOTONIC: the clock systemd stamps units with, so deadlines and timestamps compare. */
export const monotonicMs = (): number => Number(process.hrtime.bigint() / 1_000_000n);
