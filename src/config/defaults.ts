/**
 * Defaults the daemon needs before (or without) its configuration, kept out of schema.ts: importing a value from
 * there loads zod on the daemon's start (test/unit/layers.test.ts keeps zod and yaml off it).
 */

/** Debian's and Prometheus' packages' default for node-exporter's --collector.textfile.directory. */
export const DEFAULT_TEXTFILE_DIRECTORY = "/var/lib/prometheus/node-exporter";
