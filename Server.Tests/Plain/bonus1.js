'use strict';
// The codelab's bonus question 1, measured: a Socket.IO client (socket.io-client 4.8.1) and a plain WebSocket
// client (ws) against the same server, each through a loopback TCP proxy that misbehaves on command. Prints
// progress lines, then one line "RESULT <json>". Run by Server.Tests/Plain/BonusQuestionOneTests.cs.
//
//   node bonus1.js --url http://127.0.0.1:PORT --scenario noupgrade|cut|halfopen|bytes [--cap-ms N] [--cut-ms N]

const net = require('net');
const WebSocket = require('ws');
const io = require('socket.io-client-4');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) {
  args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
}
const url = new URL(args.url);
const serverPort = Number(url.port);
const scenario = args.scenario;
const capMs = Number(args['cap-ms'] || 8000);
const cutMs = Number(args['cut-ms'] || 3000);

const sleep = ms => new Promise(r => setTimeout(r, ms));
const log = line => console.log(line);
const now = () => Number(process.hrtime.bigint() / 1000000n);

/**
 * A loopback TCP proxy to the server. refuseUpgrade: a request head with an Upgrade header gets 403 (as a proxy
 * that does not pass WebSocket). cut(): every connection is destroyed and new ones are refused until restore().
 * freeze(): nothing is forwarded any more and nothing is closed (a peer that vanished without a FIN).
 * up / down: bytes client → server and server → client.
 */
function startProxy(opts = {}) {
  const state = { up: 0, down: 0, refused: 0, cut: false, frozen: false, pairs: new Set() };
  const server = net.createServer(client => {
    if (state.cut) {
      client.destroy();
      return;
    }
    const upstream = net.connect(serverPort, '127.0.0.1');
    const pair = { client, upstream };
    state.pairs.add(pair);
    let head = Buffer.alloc(0);
    let inspected = !opts.refuseUpgrade;
    client.on('data', d => {
      if (state.frozen) return;
      if (!inspected) {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        inspected = true;
        if (/\r\nupgrade:/i.test(head.subarray(0, end).toString('latin1'))) {
          state.refused++;
          client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
          upstream.destroy();
          return;
        }
        d = head;
      }
      state.up += d.length;
      upstream.write(d);
    });
    upstream.on('data', d => {
      if (state.frozen) return;
      state.down += d.length;
      client.write(d);
    });
    const close = () => {
      if (state.frozen) return; // a frozen path says nothing, not even that one side went away
      client.destroy();
      upstream.destroy();
      state.pairs.delete(pair);
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => {
    state.port = server.address().port;
    state.url = `http://127.0.0.1:${state.port}`;
    state.cutNow = () => {
      state.cut = true;
      for (const p of state.pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      state.pairs.clear();
    };
    state.restore = () => { state.cut = false; };
    state.freeze = () => { state.frozen = true; };
    state.close = () => {
      for (const p of state.pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      server.close();
    };
    resolve(state);
  }));
}

/** A Socket.IO peer with an inbox and waits. */
function sioPeer(base, options = {}) {
  const socket = io(base, Object.assign({ forceNew: true }, options));
  const inbox = [];
  const waiters = [];
  socket.onAny((name, ...rest) => {
    inbox.push([name, ...rest]);
    waiters.slice().forEach(w => w());
  });
  return {
    kind: 'socket.io',
    socket,
    inbox,
    emit: (...a) => socket.emit(...a),
    waitFor: (name, ms = 10000, match = () => true) => waitIn(inbox, waiters, name, ms, match),
    close: () => socket.close(),
  };
}

/** A plain WebSocket peer: JSON arrays both ways; optionally reconnecting (the app's own code). */
function plainPeer(base, options = {}) {
  const inbox = [];
  const waiters = [];
  const peer = { kind: 'plain', inbox, ws: null, opened: 0, closes: [], errors: [] };
  const open = () => {
    const ws = new WebSocket(base.replace(/^http/, 'ws') + '/ws');
    peer.ws = ws;
    ws.on('open', () => {
      peer.opened++;
      if (options.onOpen) options.onOpen(peer);
    });
    ws.on('message', data => {
      inbox.push(JSON.parse(data.toString()));
      waiters.slice().forEach(w => w());
    });
    ws.on('error', e => peer.errors.push(e.message));
    ws.on('close', code => {
      peer.closes.push({ at: now(), code });
      waiters.slice().forEach(w => w());
      if (options.reconnectMs && !peer.stopped) setTimeout(open, options.reconnectMs);
    });
  };
  open();
  peer.emit = (...a) => {
    // What a page does: send if open; otherwise the frame is gone (ws would throw, a browser drops it).
    if (peer.ws.readyState === WebSocket.OPEN) {
      peer.ws.send(JSON.stringify(a));
      return true;
    }
    return false;
  };
  peer.waitFor = (name, ms = 10000, match = () => true) => waitIn(inbox, waiters, name, ms, match);
  peer.close = () => { peer.stopped = true; peer.ws.terminate(); };
  return peer;
}

function waitIn(inbox, waiters, name, ms, match) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const i = inbox.findIndex(f => (Array.isArray(name) ? name.includes(f[0]) : f[0] === name) && match(f));
      if (i >= 0) {
        const [f] = inbox.splice(i, 1);
        done();
        resolve(f);
        return true;
      }
      return false;
    };
    const timer = setTimeout(() => { done(); reject(new Error(`no '${name}' within ${ms} ms`)); }, ms);
    const done = () => {
      clearTimeout(timer);
      const k = waiters.indexOf(check);
      if (k >= 0) waiters.splice(k, 1);
    };
    if (!check()) waiters.push(check);
  });
}

async function join(peer, room) {
  if (peer.kind === 'plain' && peer.ws.readyState !== WebSocket.OPEN) {
    await new Promise((resolve, reject) => { peer.ws.once('open', resolve); peer.ws.once('close', () => reject(new Error('closed'))); });
  }
  peer.emit('create or join', room);
  const f = await peer.waitFor(['created', 'joined']);
  return f[0];
}

// ---- scenarios ----

/** Through a proxy that refuses Upgrade: Socket.IO connects over polling and signals; plain WebSocket cannot connect. */
async function noUpgrade() {
  const proxy = await startProxy({ refuseUpgrade: true });
  const result = {};

  const a = sioPeer(proxy.url);
  const t0 = now();
  await new Promise((resolve, reject) => { a.socket.once('connect', resolve); setTimeout(() => reject(new Error('no connect')), 10000); });
  result.sioConnectMs = now() - t0;
  await join(a, 'noupgrade');
  const b = plainPeer(args.url);
  await join(b, 'noupgrade');
  b.emit('message', 'offer from the plain peer (direct)');
  await a.waitFor('message');
  a.emit('message', 'answer from the Socket.IO peer (behind the proxy)');
  await b.waitFor('message');
  // The upgrade probe was refused: the client stays on polling for good.
  await sleep(500);
  result.sioTransport = a.socket.io.engine.transport.name;
  result.sioSignaled = true;
  result.upgradesRefused = proxy.refused;
  log(`Socket.IO through the proxy: connected in ${result.sioConnectMs} ms over ${result.sioTransport}, offer and answer crossed; upgrade attempts refused: ${proxy.refused}`);

  const c = plainPeer(proxy.url);
  await new Promise(resolve => { c.ws.on('close', resolve); c.ws.on('open', resolve); });
  result.plainConnected = c.opened > 0;
  result.plainError = c.errors[0] || '';
  log(`plain WebSocket through the proxy: ${result.plainConnected ? 'connected' : 'failed: ' + result.plainError}, and there is nothing to fall back to`);
  a.close();
  b.close();
  c.close();
  proxy.close();
  return result;
}

/**
 * A cut of cutMs in the middle of a call: every connection of peer A is cut and reconnecting fails until the end
 * of the cut. Meanwhile A and B each send 10 messages. Counts what arrived once A is back in the room.
 */
async function cut(kind) {
  const proxy = await startProxy();
  const room = 'cut-' + kind;
  const b = sioPeer(args.url);
  await join(b, room);
  let a;
  let rejoined = 0;
  let recovered = false;
  if (kind === 'plain') {
    a = plainPeer(proxy.url, { reconnectMs: 250, onOpen: p => { if (p.opened > 1) p.emit('create or join', room); } });
    await new Promise(r => a.ws.on('open', r));
  } else {
    a = sioPeer(proxy.url);
    a.socket.on('connect', () => {
      if (a.socket.recovered) {
        recovered = true;
      } else if (a.joinedOnce) {
        a.emit('create or join', room); // a new socket: the app joins its room again
      }
    });
    await new Promise(r => a.socket.once('connect', r));
    await sleep(300); // let polling upgrade to WebSocket, as in a call that has been running
  }
  await join(a, room);
  a.joinedOnce = true;
  await b.waitFor('ready');
  a.inbox.length = 0;
  b.inbox.length = 0;

  const cutAt = now();
  proxy.cutNow();
  log(`${kind}: cut for ${cutMs} ms`);
  let aSentWhileOpen = 0;
  for (let i = 1; i <= 10; i++) {
    b.emit('message', `b${i}`);
    if (a.emit('message', `a${i}`) !== false && kind === 'plain') aSentWhileOpen++;
    await sleep(cutMs / 20);
  }
  await sleep(cutMs - (now() - cutAt));
  proxy.restore();
  const restoredAt = now();
  // Back in the room: a plain app rejoins on reopen (joined); Socket.IO rejoins on connect, or is recovered.
  let backMs = null;
  try {
    if (kind === 'plain') {
      await a.waitFor('joined', capMs);
    } else {
      await new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('not back')), capMs);
        const check = () => {
          if (recovered || a.inbox.some(f => f[0] === 'joined')) { clearTimeout(t); resolve(); } else setTimeout(check, 20);
        };
        check();
      });
    }
    backMs = now() - restoredAt;
    rejoined = 1;
  } catch (e) {
    log(`${kind}: not back within ${capMs} ms after the cut`);
  }
  await sleep(1000);
  const got = (peer, prefix) => peer.inbox.filter(f => f[0] === 'message' && typeof f[1] === 'string' && f[1].startsWith(prefix)).map(f => f[1]);
  const toA = got(a, 'b');
  const toB = got(b, 'a');
  const r = {
    kind, cutMs, backMs, rejoined, recovered,
    toTheCutPeer: toA.length, fromTheCutPeer: toB.length, sent: 10,
    cutPeerNoticedClose: kind === 'plain' ? a.closes.length > 0 : true,
  };
  log(`${kind}: after a ${cutMs} ms cut: back in the room ${backMs === null ? 'never' : backMs + ' ms after the network returned'}${recovered ? ' (session recovered)' : ''}; ` +
    `of 10 messages to the cut peer ${toA.length} arrived, of 10 from it ${toB.length} arrived`);
  a.close();
  b.close();
  proxy.close();
  return r;
}

/** Peer A's path freezes (no FIN, no reset, nothing): how long until A, and the server (B gets 'bye'), notice. */
async function halfOpen(kind) {
  const proxy = await startProxy();
  const room = 'half-' + kind;
  const b = sioPeer(args.url);
  await join(b, room);
  const a = kind === 'plain' ? plainPeer(proxy.url) : sioPeer(proxy.url, { reconnection: false });
  await join(a, room);
  await b.waitFor('ready');
  if (kind !== 'plain') await sleep(300);
  const frozenAt = now();
  proxy.freeze();
  const clientNoticed = new Promise(resolve => {
    if (kind === 'plain') a.ws.on('close', () => resolve(now() - frozenAt));
    else a.socket.on('disconnect', () => resolve(now() - frozenAt));
    setTimeout(() => resolve(null), capMs);
  });
  const serverNoticed = b.waitFor('bye', capMs).then(() => now() - frozenAt, () => null);
  const [client, server] = await Promise.all([clientNoticed, serverNoticed]);
  const r = { kind, capMs, clientNoticedMs: client, serverNoticedMs: server };
  const say = ms => ms === null ? `not within ${capMs / 1000} s` : `after ${ms} ms`;
  log(`${kind}: path frozen; the client noticed ${say(client)}, the server (bye to the peer) ${say(server)}`);
  a.close();
  b.close();
  proxy.close();
  return r;
}

const candidate = {
  type: 'candidate', label: 0, id: '0',
  candidate: 'candidate:842163049 1 udp 1677729535 192.0.2.10 54321 typ srflx raddr 10.0.0.5 rport 54321 generation 0 ufrag EsAw network-cost 999',
};

/** Bytes through the proxies: connecting and joining, one signaling message each way, and idle heartbeats. */
async function bytes(kind, transports) {
  const pa = await startProxy();
  const pb = await startProxy();
  const room = 'bytes-' + kind + (transports ? '-' + transports : '');
  const opts = transports === 'websocket' ? { transports: ['websocket'] } : {};
  const make = p => kind === 'plain' ? plainPeer(p.url) : sioPeer(p.url, opts);
  const a = make(pa);
  await join(a, room);
  if (kind !== 'plain') await sleep(500); // polling → WebSocket settles
  const connectBytes = pa.up + pa.down;
  const b = make(pb);
  await join(b, room);
  await a.waitFor('ready');
  await b.waitFor('ready');
  if (kind !== 'plain') await sleep(500);
  a.inbox.length = 0;
  b.inbox.length = 0;
  const n = 50;
  const up0 = pa.up;
  const down0 = pb.down;
  for (let i = 0; i < n; i++) a.emit('message', candidate);
  for (let i = 0; i < n; i++) await b.waitFor('message');
  for (let i = 0; i < n; i++) await a.waitFor('log');
  const perMessageUp = (pa.up - up0) / n;
  const perMessageDown = (pb.down - down0) / n;
  // Idle: only heartbeats cross (the server's pingInterval is short in this test).
  const idleMs = Number(args['idle-ms'] || 3000);
  const i0 = pa.up + pa.down;
  await sleep(idleMs);
  const idleBytes = pa.up + pa.down - i0;
  const json = Buffer.byteLength(JSON.stringify(['message', candidate]));
  const r = { kind, transports: transports || (kind === 'plain' ? 'websocket' : 'polling+upgrade'), connectBytes, perMessageUp, perMessageDown, idleBytes, idleMs, jsonBytes: json };
  log(`${kind}${transports ? ' (' + transports + ')' : ''}: connect + join ${connectBytes} B; one ${json} B signaling message: ${perMessageUp} B up, ${perMessageDown} B down; ` +
    `idle ${idleMs} ms: ${idleBytes} B`);
  a.close();
  b.close();
  pa.close();
  pb.close();
  return r;
}

(async () => {
  let result;
  switch (scenario) {
    case 'noupgrade':
      result = await noUpgrade();
      break;
    case 'cut':
      result = [await cut('plain'), await cut('socket.io')];
      break;
    case 'halfopen':
      result = await Promise.all([halfOpen('plain'), halfOpen('socket.io')]);
      break;
    case 'bytes':
      result = [await bytes('plain'), await bytes('socket.io', 'websocket'), await bytes('socket.io')];
      break;
    default:
      throw new Error('unknown scenario ' + scenario);
  }
  console.log('RESULT ' + JSON.stringify(result));
  process.exit(0);
})().catch(e => {
  console.error(e.stack || String(e));
  process.exit(1);
});
