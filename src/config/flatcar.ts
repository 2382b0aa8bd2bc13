/** The partition type GUID of Flatcar's USR-A/USR-B slots (and ChromeOS-style /usr partitions). */
export const FLATCAR_USR_TYPE = "5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6";
