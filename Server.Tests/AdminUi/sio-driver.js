// A line-driven socket.io-client 4.8.1 for the admin UI tests: reads one JSON command per line on stdin and writes
// one JSON line per thing that happens on stdout.
//   {"cmd":"connect","name":"admin","url":"http://127.0.0.1:1234/admin","auth":{...},"transports":["websocket"]}
//   {"cmd":"emit","name":"admin","event":"join","args":["/", "room1", "<socket id>"]}
//   {"cmd":"disconnect","name":"admin"}
// Out: {"name":"admin","event":"connect","id":"…"} / "connect_error" with "message" / "disconnect" with "args" /
// any event with "args" (JSON as the client decoded it).
"use strict";
const { io } = require("socket.io-client-4");
const readline = require("readline");

const sockets = new Map();
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  if (!line.trim()) return;
  const c = JSON.parse(line);
  try {
    switch (c.cmd) {
      case "connect": {
        const socket = io(c.url, {
          forceNew: true,
          reconnection: false,
          transports: c.transports || ["polling", "websocket"],
          auth: c.auth,
        });
        sockets.set(c.name, socket);
        socket.on("connect", () => out({ name: c.name, event: "connect", id: socket.id }));
        socket.on("connect_error", (err) => out({ name: c.name, event: "connect_error", message: err.message }));
        socket.on("disconnect", (reason) => out({ name: c.name, event: "disconnect", args: [reason] }));
        socket.onAny((event, ...args) => out({ name: c.name, event, args }));
        socket.io.engine && socket.io.engine.on("upgrade", (t) => out({ name: c.name, event: "upgrade", args: [t.name] }));
        break;
      }
      case "emit":
        sockets.get(c.name).emit(c.event, ...(c.args || []));
        break;
      case "disconnect":
        sockets.get(c.name).disconnect();
        break;
      default:
        out({ event: "driver_error", message: "unknown command " + c.cmd });
    }
  } catch (e) {
    out({ event: "driver_error", message: String(e && e.stack || e) });
  }
});
process.stdin.on("end", () => {
  for (const socket of sockets.values()) socket.disconnect();
  setTimeout(() => process.exit(0), 50).unref();
});
