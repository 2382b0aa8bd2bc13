// Writes schema/config.schema.json from the zod schema in the built code (run after `npm run build`).
import { mkdirSync, writeFileSync } from "node:fs";
import { z } from "zod";
import { configSchema } from "../../dist/config/schema.js";

const schema = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" });
schema.title = "bootwarden configuration (/etc/bootwarden/config.yaml)";
mkdirSync(new URL("../../schema/", import.meta.url), { recursive: true });
writeFileSync(
  new URL("../../schema/config.schema.json", import.meta.url),
  `${JSON.stringify(schema, null, 2)}\n`,
);
console.log("wrote schema/config.schema.json");
