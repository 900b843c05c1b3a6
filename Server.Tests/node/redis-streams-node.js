#!/usr/bin/env node
'use strict';

// A socket.io 4.8.1 node with @socket.io/redis-streams-adapter 0.3.1 (the `redis` 4.x client) and connection state
// recovery on, driven over stdin, one JSON command a line, for the streams mode tests:
//
//   node Server.Tests/node/redis-streams-node.js --redis 127.0.0.1:P --stream S --channel C --session-prefix K
//        [--recovery MS]
//
// Namespace /rec: a socket that connects fresh joins the room "call" and gets data "kept-node"; a recovered one keeps
// what it had. It prints {"ready":true,"port":N,"uid":"..."}, then for each command {"seq":S,"cmd":C,...} one reply
// {"seq":S,...}; other lines are events:
//   {"event":"connection","id":ID,"recovered":B,"rooms":[...],"data":D}
//
// Commands:
//   emit         {rooms?, except?, name, args}  io.of('/rec').in(rooms).except(except).emit(name, ...args)
//                                               (an arg {"binary":"hex"} is sent as a Buffer)
//   serverCount  {}                             -> {count}
//   fetch        {rooms?}                       -> {sockets: [{id, rooms, data}]}
//   quit         {}

const { Server } = require('socket.io-4');
const { createAdapter } = require('@socket.io/redis-streams-adapter');
const { createClient } = require('redis');
const readline = require('readline');

function arg(name, fallback) {
  const i = process.argv.indexOf('--' + name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function print(o) {
  process.stdout.write(JSON.stringify(o) + '\n');
}

function wire(value) {
  if (value && typeof value === 'object' && typeof value.binary === 'string') return Buffer.from(value.binary, 'hex');
  return value;
}

async function main() {
  const [host, port] = arg('redis').split(':');
  const client = createClient({ socket: { host, port: Number(port), reconnectStrategy: 100 } });
  client.on('error', () => {});
  await client.connect();

  const io = new Server({
    transports: ['websocket'],
    connectionStateRecovery: { maxDisconnectionDuration: Number(arg('recovery', '30000')), skipMiddlewares: true },
    adapter: createAdapter(client, {
      streamName: arg('stream', 'socket.io'),
      channelPrefix: arg('channel', 'socket.io'),
      sessionKeyPrefix: arg('session-prefix', 'sio:session:'),
      blockTimeInMs: 1000,
    }),
  });
  const nsp = io.of('/rec');
  nsp.on('connection', (socket) => {
    if (!socket.recovered) {
      socket.join('call');
      socket.data = 'kept-node';
    }
    print({ event: 'connection', id: socket.id, recovered: socket.recovered, rooms: [...socket.rooms], data: socket.data });
  });
  await new Promise((resolve) => io.listen(0) && io.httpServer.once('listening', resolve));
  print({ ready: true, port: io.httpServer.address().port, uid: nsp.adapter.uid });

  const handlers = {
    async emit(c) {
      let op = nsp;
      if (c.rooms && c.rooms.length) op = op.in(c.rooms);
      if (c.except && c.except.length) op = op.except(c.except);
      op.emit(c.name, ...(c.args || []).map(wire));
      return {};
    },
    async serverCount() {
      return { count: await nsp.adapter.serverCount() };
    },
    async fetch(c) {
      const sockets = await (c.rooms && c.rooms.length ? nsp.in(c.rooms) : nsp).fetchSockets();
      return { sockets: sockets.map((s) => ({ id: s.id, rooms: [...s.rooms], data: s.data })) };
    },
    async quit() {
      io.close();
      setTimeout(() => process.exit(0), 50);
      return {};
    },
  };

  readline.createInterface({ input: process.stdin }).on('line', async (line) => {
    let c;
    try {
      c = JSON.parse(line);
    } catch (e) {
      return;
    }
    try {
      const reply = await handlers[c.cmd](c);
      print(Object.assign({ seq: c.seq }, reply));
    } catch (e) {
      print({ seq: c.seq, error: String(e && e.message) });
    }
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
