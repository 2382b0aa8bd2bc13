// Writes schema/config.schema.json and schema/status.schema.json from the zod schemas in the built code (run after
// `npm run build`).
import { mkdirSync, writeFileSync } from "node:fs";
import { z } from "zod";
import { configSchema } from "../../dist/config/schema.js";
import { statusSchema } from "../../dist/config/status-schema.js";

mkdirSync(new URL("../../schema/", import.meta.url), { recursive: true });
for (const [file, zod, title, io] of [
  ["config.schema.json", configSchema, "bootwarden configuration (/etc/bootwarden/config.yaml)", "input"],
  ["status.schema.json", statusSchema, "bootwarden status --json, version 1", "output"],
]) {
  const schema = z.toJSONSchema(zod, { io, unrepresentable: "any" });
  schema.title = title;
  writeFileSync(new URL(`../../schema/${file}`, import.meta.url), `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote schema/${file}`);
}
