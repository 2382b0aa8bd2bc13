// node:crypto, loaded on first use. dbus-next requires crypto at load time for DBUS_COOKIE_SHA1, an authentication
// the system bus does not use (EXTERNAL does): loading it cost 2.7 ms (Node 20) to 6 ms (Node 24) of every start.
"use strict";
let real;
module.exports = new Proxy(
  {},
  {
    get: (_, key) => {
      real ??= require("node:crypto");
      return real[key];
    },
  },
);
