#!/usr/bin/env node
'use strict';

// The Node side of the redis-adapter suite (RedisAdapterSuiteTests): the test clients (socket.io-client 4.8.1),
// and with --server a socket.io 4.8.1 server with @socket.io/redis-adapter 8.3.0 as one node of the trio.
//
//   node suite-node.js --redis 127.0.0.1:P --key PREFIX --mode classic|sharded|streams [--requests-timeout MS] [--server]
//
// Prints {"ready":true,"port":N,"uid":U} (port and uid only with --server), then one reply line {"seq":S,...}
// per command line {"seq":S,"cmd":C,...} ({"seq":S,"error":...} when it throws). Other lines are events:
//   {"event":"client","client":NAME,"name":EV,"args":[...]}      a client received EV
//   {"event":"disconnect","client":NAME,"reason":R}             a client was disconnected
//   {"event":"server-side","name":EV,"args":[...]}              a server-side event reached this server
// Binary values travel as {"binary":"<hex>"} both ways.

const { createClient } = require('redis');
const ioc = require('socket.io-client-4');
const readline = require('readline');

function arg(name, fallback) {
  const i = process.argv.indexOf('--' + name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const redisAddress = arg('redis');
const key = arg('key', 'socket.io');
const mode = arg('mode', 'classic');
const requestsTimeout = Number(arg('requests-timeout', '1000'));
const withServer = process.argv.includes('--server');

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

function revive(value) {
  if (Array.isArray(value)) return value.map(revive);
  if (value && typeof value === 'object') {
    if (typeof value.binary === 'string' && Object.keys(value).length === 1) return Buffer.from(value.binary, 'hex');
    const out = {};
    for (const k of Object.keys(value)) out[k] = revive(value[k]);
    return out;
  }
  return value;
}

function print(o) {
  process.stdout.write(JSON.stringify(o) + '\n');
}

async function main() {
  let io = null;
  let pub = null;
  let sub = null;
  const clients = new Map();
  // Per client and event: the acknowledgement it answers with ({value} or absent: no answer).
  const replies = new Map();

  if (withServer) {
    const { Server } = require('socket.io-4');
    const { createAdapter, createShardedAdapter } = require('@socket.io/redis-adapter');
    const [host, port] = redisAddress.split(':');
    pub = createClient({ socket: { host, port: Number(port), reconnectStrategy: 100 } });
    sub = pub.duplicate();
    pub.on('error', () => {});
    sub.on('error', () => {});
    await Promise.all([pub.connect(), sub.connect()]);
    io = new Server({ transports: ['websocket'] });
    if (mode === 'streams') {
      // The names our servers of the fixture are given (SuiteNodes.cs).
      const streams = require('@socket.io/redis-streams-adapter');
      io.adapter(streams.createAdapter(pub, {
        streamName: key + '-stream', channelPrefix: key, sessionKeyPrefix: key + ':session:', blockTimeInMs: 1000,
      }));
    } else {
      io.adapter(mode === 'sharded'
        ? createShardedAdapter(pub, sub, { channelPrefix: key })
        : createAdapter(pub, sub, { key, requestsTimeout }));
    }
    await new Promise((resolve) => io.listen(0) && io.httpServer.once('listening', resolve));
  }

  const socketOf = (sid) => {
    const s = io.of('/').sockets.get(sid);
    if (!s) throw new Error('no local socket ' + sid);
    return s;
  };
  const select = (c) => {
    let op = io.of(c.nsp || '/');
    if (c.local) op = op.local;
    if (c.rooms && c.rooms.length) op = op.to(c.numeric ? c.rooms.map(Number) : c.rooms);
    if (c.except && c.except.length) op = op.except(c.except);
    return op;
  };

  print({ ready: true, port: io ? io.httpServer.address().port : 0, uid: io ? io.of('/').adapter.uid : null });

  const handlers = {
    // ---- clients ----
    async connect(c) {
      let client;
      if (c.base) {
        // As the reference: the manager connects the new namespace socket itself (autoConnect).
        client = clients.get(c.base).io.socket(c.nsp);
      } else {
        client = ioc(c.url, { transports: ['websocket'], forceNew: true, reconnection: false });
      }
      replies.set(c.name, new Map());
      client.onAny((name, ...args) => {
        const cb = typeof args[args.length - 1] === 'function' ? args.pop() : null;
        print({ event: 'client', client: c.name, name, args: plain(args) });
        const reply = replies.get(c.name).get(name);
        if (cb && reply) cb(revive(reply.value));
      });
      client.on('disconnect', (reason) => print({ event: 'disconnect', client: c.name, reason }));
      await new Promise((resolve, reject) => {
        client.once('connect', resolve);
        client.once('connect_error', reject);
      });
      clients.set(c.name, client);
      return { id: client.id };
    },
    async reply(c) {
      replies.get(c.client).set(c.name, { value: c.value });
      return {};
    },
    async closeClients() {
      for (const client of clients.values()) client.disconnect();
      clients.clear();
      replies.clear();
      return {};
    },
    // ---- the server (--server) ----
    async of(c) {
      io.of(c.nsp);
      return {};
    },
    async localCount(c) {
      return { count: io.of(c.nsp || '/').sockets.size };
    },
    async emit(c) {
      select(c).emit(c.name, ...revive(c.args || []));
      return {};
    },
    async emitAck(c) {
      return await new Promise((resolve) => {
        select(c).timeout(c.timeout).emit(c.name, ...revive(c.args || []), (err, responses) =>
          resolve({ error: err ? err.message : null, responses: plain(responses || []) }));
      });
    },
    async socketsJoin(c) {
      select(c).socketsJoin(c.room);
      return {};
    },
    async socketsLeave(c) {
      select(c).socketsLeave(c.room);
      return {};
    },
    async disconnectSockets(c) {
      select(c).disconnectSockets(!!c.close);
      return {};
    },
    async fetch(c) {
      const sockets = await select(c).fetchSockets();
      return { sockets: sockets.map((s) => ({ id: s.id, rooms: [...s.rooms], data: plain(s.data), handshake: plain(s.handshake) })) };
    },
    async join(c) {
      // A number stays a number: the numeric-room case joins 123, not "123".
      await socketOf(c.sid).join(c.rooms);
      return {};
    },
    async rooms(c) {
      return { rooms: [...socketOf(c.sid).rooms] };
    },
    async setData(c) {
      socketOf(c.sid).data = c.data;
      return {};
    },
    async handshake(c) {
      return { handshake: plain(socketOf(c.sid).handshake) };
    },
    async listen(c) {
      const nsp = io.of('/');
      nsp.removeAllListeners(c.name);
      nsp.on(c.name, (...args) => {
        const cb = typeof args[args.length - 1] === 'function' ? args.pop() : null;
        print({ event: 'server-side', name: c.name, args: plain(args) });
        if (cb && c.answer) cb(revive(c.reply));
      });
      return {};
    },
    async sse(c) {
      io.serverSideEmit(c.name, ...revive(c.args || []));
      return {};
    },
    async sseAck(c) {
      return await new Promise((resolve) => {
        io.serverSideEmit(c.name, ...revive(c.args || []), (err, responses) =>
          resolve({ error: err ? err.message : null, responses: plain(responses || []) }));
      });
    },
    async serverCount(c) {
      return { count: await io.of(c.nsp || '/').adapter.serverCount() };
    },
    async quit() {
      for (const client of clients.values()) client.close();
      if (io) io.close();
      if (pub) await Promise.allSettled([pub.quit(), sub.quit()]);
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
