// socket.io-client 4.8.1 driven line by line, for the ports of socket.io's own server tests (Server.Tests/NodeSuite).
// One process serves a whole test fixture: many clients, each named by the id the driver gives it.
//
// In, one JSON command per line:   {"id":7,"cmd":"connect","url":"http://127.0.0.1:P/nsp","opts":{...}}
// Out, the answer to a command:    {"re":7,"result":...} or {"re":7,"error":"message"}
// Out, what a client saw:          {"c":"c1","ev":"connect","args":[...],"ackId":3?}
//
// Values: a Buffer travels as {"$bin":"<base64>"} both ways. An event the server sends with an acknowledgement
// carries "ackId"; it is answered by a registered responder ("respond") or later by the "ack" command.
"use strict";
const { io, Manager } = require("socket.io-client-4");
const readline = require("readline");

const clients = new Map(); // id -> socket
const managers = new Map(); // id -> Manager
const responders = new Map(); // clientId + "\0" + event -> args
const pendingAcks = new Map(); // ackId -> callback
let nextClient = 1;
let nextManager = 1;
let nextAck = 1;

const write = (o) => process.stdout.write(JSON.stringify(o) + "\n");

function encode(value) {
  if (Buffer.isBuffer(value) || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    return { $bin: Buffer.from(value.buffer ? value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength) : value).toString("base64") };
  }
  if (Array.isArray(value)) return value.map(encode);
  if (value instanceof Error) return { $error: value.message, data: encode(value.data) };
  if (value && typeof value === "object") {
    const o = {};
    for (const [k, v] of Object.entries(value)) o[k] = encode(v);
    return o;
  }
  return value === undefined ? null : value;
}

function decode(value) {
  if (Array.isArray(value)) return value.map(decode);
  if (value && typeof value === "object") {
    if (typeof value.$bin === "string" && Object.keys(value).length === 1) return Buffer.from(value.$bin, "base64");
    const o = {};
    for (const [k, v] of Object.entries(value)) o[k] = decode(v);
    return o;
  }
  return value;
}

function record(c, ev, args, extra) {
  write(Object.assign({ c, ev, args: encode(args) }, extra || {}));
}

function watch(c, socket) {
  clients.set(c, socket);
  socket.on("connect", () => record(c, "connect", [socket.id], { recovered: socket.recovered }));
  socket.on("connect_error", (err) => record(c, "connect_error", [err.message, err.data === undefined ? null : err.data]));
  socket.on("disconnect", (reason, description) =>
    record(c, "disconnect", [reason, description && description.message ? description.message : null]));
  // socket.io-client 2 has no onAny: its tests record what they need themselves
  if (typeof socket.onAny === "function") socket.onAny((event, ...args) => {
    const last = args[args.length - 1];
    if (typeof last === "function") {
      args.pop();
      const key = c + "\0" + event;
      if (responders.has(key)) {
        record(c, event, args, { acked: true });
        last(...decode(responders.get(key)));
        return;
      }
      const ackId = nextAck++;
      pendingAcks.set(ackId, last);
      record(c, event, args, { ackId });
      return;
    }
    record(c, event, args);
  });
  const manager = socket.io;
  if (!manager.__watched) {
    manager.__watched = true;
    for (const ev of ["reconnect_attempt", "reconnect", "reconnect_failed", "reconnect_error"]) {
      manager.on(ev, (arg) => record(c, "io:" + ev, arg === undefined ? [] : [arg instanceof Error ? arg.message : arg]));
    }
  }
}

function socketOf(cmd) {
  const socket = clients.get(cmd.c);
  if (!socket) throw new Error("no client " + cmd.c);
  return socket;
}

function withFlags(socket, cmd) {
  let s = socket;
  if (cmd.volatile) s = s.volatile;
  if (cmd.compress === false) s = s.compress(false);
  if (typeof cmd.timeout === "number") s = s.timeout(cmd.timeout);
  return s;
}

const commands = {
  connect(cmd) {
    const c = "c" + nextClient++;
    // answers to register before the first packet can arrive: {"event": [args]}
    for (const [event, args] of Object.entries(cmd.respond || {})) responders.set(c + "\0" + event, args);
    watch(c, io(cmd.url, Object.assign({ forceNew: true, reconnection: false }, cmd.opts || {})));
    return c;
  },
  manager(cmd) {
    const m = "m" + nextManager++;
    managers.set(m, new Manager(cmd.url, Object.assign({ reconnection: false }, cmd.opts || {})));
    return m;
  },
  socket(cmd) {
    const manager = managers.get(cmd.m);
    if (!manager) throw new Error("no manager " + cmd.m);
    const c = "c" + nextClient++;
    for (const [event, args] of Object.entries(cmd.respond || {})) responders.set(c + "\0" + event, args);
    watch(c, manager.socket(cmd.nsp, cmd.opts || {}));
    return c;
  },
  emit(cmd) {
    withFlags(socketOf(cmd), cmd).emit(cmd.event, ...decode(cmd.args || []));
    return null;
  },
  emitWithAck(cmd) {
    const socket = withFlags(socketOf(cmd), cmd);
    return new Promise((resolve, reject) => {
      if (typeof cmd.timeout === "number") {
        socket.emit(cmd.event, ...decode(cmd.args || []), (err, ...args) => (err ? reject(err) : resolve(encode(args))));
      } else {
        socket.emit(cmd.event, ...decode(cmd.args || []), (...args) => resolve(encode(args)));
      }
    });
  },
  send(cmd) {
    socketOf(cmd).send(...decode(cmd.args || []));
    return null;
  },
  respond(cmd) {
    responders.set(cmd.c + "\0" + cmd.event, cmd.args || []);
    return null;
  },
  ack(cmd) {
    const callback = pendingAcks.get(cmd.ackId);
    if (!callback) throw new Error("no pending ack " + cmd.ackId);
    pendingAcks.delete(cmd.ackId);
    callback(...decode(cmd.args || []));
    return null;
  },
  state(cmd) {
    const socket = socketOf(cmd);
    const engine = socket.io.engine;
    return {
      id: socket.id === undefined ? null : socket.id,
      connected: socket.connected,
      active: socket.active,
      recovered: !!socket.recovered,
      transport: engine && engine.transport ? engine.transport.name : null,
      engineId: engine ? engine.id : null,
    };
  },
  connectAgain(cmd) {
    socketOf(cmd).connect();
    return null;
  },
  disconnect(cmd) {
    socketOf(cmd).disconnect();
    return null;
  },
  // the transport alone is closed: the socket sees "transport close", and reconnects if reconnection is on
  engineClose(cmd) {
    socketOf(cmd).io.engine.close();
    return null;
  },
  // a raw Engine.IO packet on the client's transport, below Socket.IO (type "message" by default)
  engineSend(cmd) {
    socketOf(cmd).io.engine.write(cmd.data);
    return null;
  },
  // arbitrary client code for the rare case the commands above do not cover: an async function body that sees
  // the client sockets (`socket(id)`), `record(id, event, args)`, `watch(id, socket)`, `io`, `Manager`, `require`, and `args`
  run(cmd) {
    const fn = new Function("socket", "record", "io", "Manager", "args", "watch", "require", `return (async () => { ${cmd.code} })();`);
    return Promise.resolve(fn((id) => clients.get(id), record, io, Manager, cmd.args, watch, require)).then(encode);
  },
  close(cmd) {
    const socket = clients.get(cmd.c);
    if (socket) {
      socket.disconnect();
      socket.io.engine && socket.io.engine.close();
      clients.delete(cmd.c);
    }
    return null;
  },
  closeAll() {
    for (const socket of clients.values()) {
      socket.disconnect();
      socket.io.reconnection(false);
      socket.io.engine && socket.io.engine.close();
    }
    for (const manager of managers.values()) {
      manager.reconnection(false);
      manager.engine && manager.engine.close();
    }
    clients.clear();
    managers.clear();
    responders.clear();
    pendingAcks.clear();
    return null;
  },
};

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  if (!line.trim()) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
    const handler = commands[cmd.cmd];
    if (!handler) throw new Error("unknown command " + cmd.cmd);
    Promise.resolve()
      .then(() => handler(cmd))
      .then(
        (result) => write({ re: cmd.id, result: result === undefined ? null : result }),
        (err) => write({ re: cmd.id, error: err && err.message ? err.message : String(err), data: encode(err && err.data) }),
      );
  } catch (err) {
    write({ re: cmd && cmd.id, error: String((err && err.stack) || err) });
  }
});
process.stdin.on("end", () => {
  commands.closeAll();
  setTimeout(() => process.exit(0), 20).unref();
});
