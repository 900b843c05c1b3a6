#!/usr/bin/env node
'use strict';

// A socket.io 4.8.1 node with @socket.io/redis-adapter 8.3.0 (the `redis` 4.x client), for the
// interop test: it and a SocketIoSignal node with --redis share one Redis and must serve one cluster.
//
//   node Server.Tests/node/redis-node.js --redis 127.0.0.1:P --peer http://127.0.0.1:Q [--room R]
//
// It starts the Node server on a free port with one client ("node-client") connected to it and
// joined to room R, and one client ("peer-client", socket.io-client 4.8.1) connected to the peer
// (our server, codelab mode), joined to R there with 'create or join'. Then it prints
//   {"ready":true,"port":N}
// and obeys commands, one per stdin line:
//   emit      -> io.to(R).emit('from-node', 'héllo', 1.5, {nested: <Buffer 01 02 03>}) on the Node server
//   relay     -> peer-client emits 'message' 'relayed' on the peer (the codelab relays it to everyone)
//   quit      -> closes everything and exits 0
// Every event a client receives (but the codelab's 'log') is printed as one line:
//   {"client":"node-client","event":"...","args":[...]}   (Buffers as {"binary":"<hex>"})

const { Server } = require('socket.io-4');
const { createAdapter } = require('@socket.io/redis-adapter');
const { createClient } = require('redis');
const ioc = require('socket.io-client-4');
const readline = require('readline');

function arg(name, fallback) {
  const i = process.argv.indexOf('--' + name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const redisAddress = arg('redis');
const peer = arg('peer');
const room = arg('room', 'interop');
if (!redisAddress || !peer) {
  console.error('usage: redis-node.js --redis host:port --peer http://host:port [--room R]');
  process.exit(2);
}

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

function report(client, socket) {
  socket.onAny((event, ...args) => {
    if (event === 'log') return;
    process.stdout.write(JSON.stringify({ client, event, args: plain(args) }) + '\n');
  });
}

function fail(why) {
  console.error(why);
  process.exit(1);
}

async function main() {
  const [host, port] = redisAddress.split(':');
  const pub = createClient({ socket: { host, port: Number(port) } });
  const sub = pub.duplicate();
  pub.on('error', (e) => fail('redis: ' + e.message));
  sub.on('error', (e) => fail('redis: ' + e.message));
  await Promise.all([pub.connect(), sub.connect()]);

  const io = new Server({ transports: ['websocket'] });
  io.adapter(createAdapter(pub, sub));
  io.on('connection', (socket) => {
    socket.join(room);
    socket.emit('joined-node', room);
  });
  await new Promise((resolve) => io.listen(0) && io.httpServer.once('listening', resolve));
  const nodePort = io.httpServer.address().port;

  const nodeClient = ioc('http://127.0.0.1:' + nodePort, { transports: ['websocket'], forceNew: true, reconnection: false });
  await new Promise((resolve, reject) => {
    nodeClient.once('joined-node', resolve);
    nodeClient.once('connect_error', reject);
  });
  report('node-client', nodeClient);

  const peerClient = ioc(peer, { transports: ['websocket'], forceNew: true, reconnection: false });
  await new Promise((resolve, reject) => {
    peerClient.once('connect', () => peerClient.emit('create or join', room));
    peerClient.once('created', resolve);
    peerClient.once('joined', resolve);
    peerClient.once('full', () => reject(new Error('room full on the peer')));
    peerClient.once('connect_error', reject);
  });
  report('peer-client', peerClient);

  process.stdout.write(JSON.stringify({ ready: true, port: nodePort }) + '\n');

  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', async (line) => {
    const command = line.trim();
    if (command === 'emit') {
      io.to(room).emit('from-node', 'héllo', 1.5, { nested: Buffer.from([1, 2, 3]) });
    } else if (command === 'relay') {
      peerClient.emit('message', 'relayed');
    } else if (command === 'quit') {
      nodeClient.close();
      peerClient.close();
      io.close();
      await Promise.all([pub.quit(), sub.quit()]);
      process.exit(0);
    }
  });
  rl.on('close', () => process.exit(0));
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
