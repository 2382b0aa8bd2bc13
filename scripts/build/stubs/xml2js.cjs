// Stands in for xml2js in bootwarden's bundles. dbus-next loads xml2js (with xmlbuilder and sax: 14 ms and ~5 MB
// of RSS at start) for two things bootwarden never does: introspecting a remote object (getProxyObject) and
// describing objects it exports. It only sends plain messages to systemd (src/systemd/bus.ts).
"use strict";
const refuse = () => {
  throw new Error(
    "bootwarden's bundle has no XML parser: D-Bus introspection (getProxyObject) is not available",
  );
};
// MessageBus builds one in its constructor; it answers Introspect calls on our connection: nothing is exported.
exports.Builder = class Builder {
  buildObject() {
    return "<node/>";
  }
};
exports.Parser = class Parser {
  constructor() {
    refuse();
  }
};
exports.parseString = refuse;
