// node:assert, loaded on first use. dbus-next requires it at load time, and uses it only when it marshals a variant
// (a transient unit's properties), not on the daemon's start path: about 2 ms of every start otherwise.
"use strict";
let real;
const load = () => {
  real ??= require("node:assert");
  return real;
};
module.exports = new Proxy(function assert() {}, {
  apply: (_, self, args) => Reflect.apply(load(), self, args),
  get: (_, key) => load()[key],
});
