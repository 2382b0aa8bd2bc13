/** bootwarden's version, as package.json says (test/unit/packaging.test.ts holds the two together). */
export const VERSION = "0.1.0";
