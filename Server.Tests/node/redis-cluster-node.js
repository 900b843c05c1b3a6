#!/usr/bin/env node
'use strict';

// A socket.io 4.8.1 node with @socket.io/redis-adapter 8.3.0 (classic, the `redis` 4.x client) that a test
// drives over stdin, one JSON command a line, to exercise every cluster call against a mixed cluster:
//
//   node Server.Tests/node/redis-cluster-node.js --redis 127.0.0.1:P [--key socket.io] [--requests-timeout MS]
//        [--sharded static|dynamic|dynamic-private] [--cluster]
//
// With --sharded it uses createShardedAdapter (SPUBLISH/SSUBSCRIBE) with that subscriptionMode instead of
// createAdapter; allRooms is then not available (the sharded adapter has no such request). With --cluster,
// --redis is a comma-separated list of Redis Cluster masters and the clients are node-redis createCluster ones.
//
// It prints {"ready":true,"port":N,"uid":"..."} and then, for each command {"seq":S,"cmd":C,...}, one reply
// line {"seq":S,...} (an error as {"seq":S,"error":"..."}). Other lines are events:
//   {"event":"client","client":NAME,"name":EV,"args":[...]}   a test client received EV
//   {"event":"server-side","name":EV,"args":[...]}            a server-side emit reached this node
//   {"event":"disconnect","client":NAME,"reason":R}           a test client was disconnected
//
// Commands:
//   connect      {name, url?, rooms?, data?}  a socket.io-client 4.8.1 client to url (default: this node);
//                                             the server (this node or the peer) joins it to rooms and sets data
//                                             from its auth; the client answers 'ask' acks with {client, arg}
//   fetch        {rooms?, except?}            io.in(rooms).except(except).fetchSockets() -> {sockets}
//   allRooms     {}                           adapter.allRooms() -> {rooms}
//   serverCount  {}                           adapter.serverCount() -> {count}
//   join / leave {rooms?, room}               io.in(rooms).socketsJoin(room) / socketsLeave(room)
//   disconnect   {rooms?, close}              io.in(rooms).disconnectSockets(close)
//   remoteJoin   {id, room}                   fetchSockets() then that RemoteSocket's join(room)
//   emit         {rooms?, name, args}         io.in(rooms).emit(name, ...args)
//   sse          {name, args}                 io.serverSideEmit(name, ...args)
//   sseAck       {name, args}                 io.serverSideEmitWithAck(name, ...args) -> {responses} | {error, responses}
//   ack          {rooms?, name, arg, timeout} io.in(rooms).timeout(t).emitWithAck(name, arg) -> {responses} | {error, responses}
//   quit         {}                           closes everything, exits 0

const { Server } = require('socket.io-4');
const { createAdapter, createShardedAdapter } = require('@socket.io/redis-adapter');
const { createClient, createCluster } = require('redis');
const ioc = require('socket.io-client-4');
const readline = require('readline');

function arg(name, fallback) {
  const i = process.argv.indexOf('--' + name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const redisAddress = arg('redis');
if (!redisAddress) {
  console.error('usage: redis-cluster-node.js --redis host:port [--key K] [--requests-timeout MS]');
  process.exit(2);
}
const key = arg('key', 'socket.io');
const requestsTimeout = Number(arg('requests-timeout', '5000'));
const sharded = arg('sharded', null);
const onCluster = process.argv.includes('--cluster');

function plain(value) {
  if (Buffer.isBuffer(value)) return { binary: value.toString('hex') };
  if (value instanceof ArrayBuffer) return { binary: Buffer.from(value).toString('hex') };
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') {
    const out = {};
    for (const k of Object.keys(value)) out[k] = plain(value[k]);
    return out;
  }
  return value;
}

function print(o) {
  process.stdout.write(JSON.stringify(o) + '\n');
}

function select(io, c) {
  let op = io.of('/');
  if (c.rooms && c.rooms.length) op = op.in(c.rooms);
  if (c.except && c.except.length) op = op.except(c.except);
  return op;
}

async function main() {
  const [host, port] = redisAddress.split(',')[0].split(':');
  const pub = onCluster
    ? createCluster({ rootNodes: redisAddress.split(',').map((a) => ({ url: 'redis://' + a })) })
    : createClient({ socket: { host, port: Number(port), reconnectStrategy: 100 } });
  const sub = pub.duplicate();
  pub.on('error', () => {});
  sub.on('error', () => {});
  await Promise.all([pub.connect(), sub.connect()]);

  const io = new Server({ transports: ['websocket'] });
  io.adapter(sharded
    ? createShardedAdapter(pub, sub, { channelPrefix: key, subscriptionMode: sharded })
    : createAdapter(pub, sub, { key, requestsTimeout }));
  io.on('connection', (socket) => {
    const auth = socket.handshake.auth || {};
    if (auth.data !== undefined) socket.data = auth.data;
    if (Array.isArray(auth.rooms)) socket.join(auth.rooms);
    socket.emit('welcome', socket.id);
  });
  const adapter = io.of('/').adapter;
  io.of('/').on('ping-servers', (...args) => {
    const cb = typeof args[args.length - 1] === 'function' ? args.pop() : null;
    print({ event: 'server-side', name: 'ping-servers', args: plain(args) });
    if (cb) cb({ from: 'node', args: plain(args) });
  });
  io.of('/').on('notify', (...args) => print({ event: 'server-side', name: 'notify', args: plain(args) }));
  await new Promise((resolve) => io.listen(0) && io.httpServer.once('listening', resolve));
  const nodePort = io.httpServer.address().port;
  const clients = new Map();

  print({ ready: true, port: nodePort, uid: adapter.uid });

  const handlers = {
    async connect(c) {
      const url = c.url || 'http://127.0.0.1:' + nodePort;
      const client = ioc(url, {
        transports: ['websocket'], forceNew: true, reconnection: false,
        auth: { rooms: c.rooms || [], data: c.data },
      });
      client.onAny((name, ...args) => {
        if (name === 'log') return;
        const cb = typeof args[args.length - 1] === 'function' ? args.pop() : null;
        print({ event: 'client', client: c.name, name, args: plain(args) });
        if (cb) cb({ client: c.name, arg: plain(args[0]) });
      });
      client.on('disconnect', (reason) => print({ event: 'disconnect', client: c.name, reason }));
      const id = await new Promise((resolve, reject) => {
        client.once('welcome', resolve);
        client.once('connect_error', reject);
      });
      clients.set(c.name, client);
      return { id: client.id || id };
    },
    async fetch(c) {
      const sockets = await select(io, c).fetchSockets();
      return { sockets: sockets.map((s) => ({ id: s.id, rooms: [...s.rooms], data: s.data, handshake: s.handshake })) };
    },
    async allRooms() {
      return { rooms: [...(await adapter.allRooms())] };
    },
    async serverCount() {
      return { count: await adapter.serverCount() };
    },
    async join(c) {
      select(io, c).socketsJoin(c.room);
      return {};
    },
    async leave(c) {
      select(io, c).socketsLeave(c.room);
      return {};
    },
    async disconnect(c) {
      select(io, c).disconnectSockets(!!c.close);
      return {};
    },
    async remoteJoin(c) {
      const sockets = await io.fetchSockets();
      const s = sockets.find((x) => x.id === c.id);
      if (!s) throw new Error('no socket ' + c.id);
      s.join(c.room);
      return {};
    },
    async emit(c) {
      select(io, c).emit(c.name, ...(c.args || []));
      return {};
    },
    async sse(c) {
      io.serverSideEmit(c.name, ...(c.args || []));
      return {};
    },
    async sseAck(c) {
      try {
        return { responses: await io.serverSideEmitWithAck(c.name, ...(c.args || [])) };
      } catch (e) {
        return { error: e.message, responses: e.responses || [] };
      }
    },
    async ack(c) {
      try {
        return { responses: plain(await select(io, c).timeout(c.timeout || 5000).emitWithAck(c.name, c.arg)) };
      } catch (e) {
        return { error: e.message };
      }
    },
    async quit() {
      for (const client of clients.values()) client.close();
      io.close();
      await Promise.allSettled([pub.quit(), sub.quit()]);
      process.exit(0);
    },
  };

  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', async (line) => {
    if (!line.trim()) return;
    let c;
    try {
      c = JSON.parse(line);
    } catch (e) {
      print({ error: 'bad command line' });
      return;
    }
    const handler = handlers[c.cmd];
    if (!handler) {
      print({ seq: c.seq, error: 'unknown command ' + c.cmd });
      return;
    }
    try {
      print({ seq: c.seq, ...(await handler(c)) });
    } catch (e) {
      print({ seq: c.seq, error: e && e.message ? e.message : String(e) });
    }
  });
  rl.on('close', () => process.exit(0));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
