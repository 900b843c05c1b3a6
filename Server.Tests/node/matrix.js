#!/usr/bin/env node
'use strict';

// Interop matrix runner: runs every feature of the interop matrix with one
// client generation over one transport against a server whose test
// namespaces "/matrix" and "/matrix-ns" have the handlers that
// Server.Tests/Interop/MatrixServer.cs registers, and prints ONE JSON line
// per feature:
//
//   {"feature":"binary","ok":true,"detail":"..."}
//
//   node Server.Tests/node/matrix.js --url http://127.0.0.1:PORT \
//     --client 1|2|3|4 --transport polling|websocket|upgrade \
//     [--mode codelab|rooms] [--timeout MS] [--idle MS]
//
// Features, in the order they run: connect, events, acks, binary,
// namespace, rooms, signaling, transport, server-disconnect, idle, restart.
// A failed feature is reported and the run goes on with the next one.
//
// "restart" needs the caller's help: the script prints the line
// READY-FOR-RESTART, the caller stops the server, starts it again on the same
// port (same handlers) and writes the line RESTARTED to the script's stdin;
// the client must then reconnect on its own.
//
// "idle" waits --idle ms (default 1500) doing nothing and expects the
// session to survive on heartbeats alone, and counts them (at least 3): run
// the server with a short pingInterval (e.g. --EngineIo:PingInterval=300
// --EngineIo:PingTimeout=2000; the timeout need not be tight, as the
// heartbeats are counted).
//
// The same file runs in a browser (Server.Tests/Interop/matrix.html): there
// it defines window.runMatrix(env) and does nothing else.
//
// Exit codes: 0 every feature ok, 1 some feature failed, 2 bad usage.

(function(root) {
  var FEATURES = ['connect', 'events', 'acks', 'binary', 'namespace', 'rooms', 'signaling',
    'transport', 'server-disconnect', 'idle', 'restart'];

  // -------------------------------------------------------------------------
  // helpers

  function FeatureError(message) {
    var e = new Error(message);
    e.isFeatureError = true;
    return e;
  }

  function check(condition, message) {
    if (!condition) throw FeatureError(message);
  }

  function delay(ms) {
    return new Promise(function(resolve) { setTimeout(resolve, ms); });
  }

  // -------------------------------------------------------------------------
  // one Socket.IO client (a namespace socket) and what it received

  function Client(m, label, socket) {
    var self = this;
    this.m = m;
    this.label = label;
    this.socket = socket;
    this.events = [];
    this.connects = 0;
    this.disconnects = [];
    this.errors = [];
    this.pongs = 0;
    this.upgrades = 0;
    this.closing = false;
    this.dropExpected = false;

    var record = function(args) {
      self.events.push(Array.prototype.slice.call(args));
      m.check();
    };
    if (typeof socket.onAny === 'function') {
      socket.onAny(function() { record(arguments); });  // 3.x, 4.x
    } else {
      var onevent = socket.onevent;                      // 1.x, 2.x
      socket.onevent = function(packet) {
        record(packet.data || []);
        return onevent.apply(this, arguments);
      };
    }
    socket.on('connect', function() {
      self.connects++;
      self.watchEngine();
      m.check();
    });
    socket.on('disconnect', function(reason) {
      self.disconnects.push(String(reason));
      if (!self.closing && !self.dropExpected) {
        m.fail('client ' + label + ' disconnected unexpectedly (' + reason + ')');
      }
      m.check();
    });
    var onError = function(err) {
      self.errors.push(describe(err));
      m.check();
    };
    socket.on('connect_error', onError);
    socket.on('error', onError);  // 1.x/2.x report some failures here
    this.watchEngine();
  }

  Client.prototype.engine = function() {
    return this.socket.io && this.socket.io.engine;
  };

  // Counts heartbeats ('pong': every generation emits it on the Engine.IO
  // socket once per ping/pong exchange) and upgrades, per engine.
  Client.prototype.watchEngine = function() {
    var self = this;
    var engine = this.engine();
    if (!engine || engine.__matrixWatched) return;
    engine.__matrixWatched = true;
    engine.on('pong', function() { self.pongs++; });
    engine.on('upgrade', function() { self.upgrades++; self.m.check(); });
  };

  Client.prototype.count = function(name) {
    var n = 0;
    for (var i = 0; i < this.events.length; i++) if (this.events[i][0] === name) n++;
    return n;
  };

  // A promise of the arguments of the next `name` event (counted from now).
  Client.prototype.expect = function(name, timeout) {
    var self = this;
    var before = this.count(name);
    return this.m.until(function() { return self.count(name) > before; },
      self.label + ": '" + name + "'", timeout).then(function() {
      var seen = 0;
      for (var i = 0; i < self.events.length; i++) {
        if (self.events[i][0] === name && seen++ === before) return self.events[i].slice(1);
      }
      throw FeatureError('lost event ' + name);
    });
  };

  Client.prototype.connected = function() {
    var self = this;
    var before = this.connects;
    var errorsBefore = this.errors.length;
    if (this.socket.connected && this.connects > 0) return Promise.resolve();
    return this.m.until(function() {
      if (self.errors.length > errorsBefore) throw FeatureError(self.label + ': connect error: ' + self.errors[self.errors.length - 1]);
      return self.connects > before || (self.socket.connected && self.connects > 0);
    }, self.label + ': connect');
  };

  // Emits with an acknowledgement; resolves with the ack's arguments.
  Client.prototype.ack = function(name) {
    var self = this;
    var args = Array.prototype.slice.call(arguments, 1);
    var answer = null;
    var p = this.m.until(function() { return answer !== null; }, self.label + ": ack of '" + name + "'")
      .then(function() { return answer; });
    this.socket.emit.apply(this.socket, [name].concat(args, [function() {
      answer = Array.prototype.slice.call(arguments);
      self.m.check();
    }]));
    return p;
  };

  Client.prototype.emit = function() {
    this.socket.emit.apply(this.socket, arguments);
  };

  // An ack round trip: everything the server sent this client before it
  // handled the fence has been received once it resolves.
  Client.prototype.fence = function() {
    return this.ack('fence');
  };

  Client.prototype.close = function() {
    this.closing = true;
    try { this.socket.disconnect(); } catch (ignored) { /* closing anyway */ }
  };

  function describe(err) {
    if (err === undefined || err === null) return String(err);
    if (err instanceof Error) return err.message + (err.description ? ' (' + describe(err.description) + ')' : '');
    if (typeof err === 'object') {
      if (typeof err.message === 'string') return err.message;
      try { return JSON.stringify(err); } catch (e) { return String(err); }
    }
    return String(err);
  }

  // -------------------------------------------------------------------------
  // the run

  // env: { io, url, client, transport, mode, timeout, idle, bin(bytes),
  //        bytes(value) -> number[] | null, report(result), readyForRestart() }
  function Matrix(env) {
    this.env = env;
    this.clients = [];
    this.waiters = [];
    this.failure = null;
    this.protocol = env.client === '1' || env.client === '2' ? 4 : 5;
  }

  Matrix.prototype.options = function(extra) {
    var o = { forceNew: true, reconnection: false };
    if (this.env.transport === 'polling') o.transports = ['polling'];
    else if (this.env.transport === 'websocket') o.transports = ['websocket'];
    for (var k in extra || {}) o[k] = extra[k];
    return o;
  };

  Matrix.prototype.client = function(nsp, extra) {
    var label = String.fromCharCode(65 + this.clients.length);
    // In a browser, clients take turns over the page's host names (env.urls): a browser keeps at most six
    // HTTP/1.1 connections per host, and seven long-polling clients on one host starve the seventh's POSTs.
    var base = this.env.urls ? this.env.urls[this.clients.length % this.env.urls.length] : this.env.url;
    var c = new Client(this, label, this.env.io(base + nsp, this.options(extra)));
    this.clients.push(c);
    return c;
  };

  // A namespace socket multiplexed on another client's connection.
  Matrix.prototype.multiplexed = function(on, nsp) {
    var label = String.fromCharCode(65 + this.clients.length);
    var c = new Client(this, label, on.socket.io.socket(nsp));
    this.clients.push(c);
    return c;
  };

  Matrix.prototype.fail = function(message) {
    if (this.failure) return;
    this.failure = FeatureError(message);
    this.check();
  };

  Matrix.prototype.check = function() {
    var self = this;
    this.waiters = this.waiters.filter(function(w) {
      var outcome;
      try {
        if (self.failure) throw self.failure;
        outcome = w.predicate() ? 'done' : null;
      } catch (e) {
        outcome = e;
      }
      if (outcome === null) return true;
      clearTimeout(w.timer);
      if (outcome === 'done') w.resolve(); else w.reject(outcome);
      return false;
    });
  };

  // Resolves once predicate() is true; rejects when it throws, on an
  // unexpected disconnect, or after the timeout.
  Matrix.prototype.until = function(predicate, what, timeout) {
    var self = this;
    var ms = timeout || this.env.timeout;
    return new Promise(function(resolve, reject) {
      var w = { predicate: predicate, resolve: resolve, reject: reject };
      self.waiters.push(w);
      w.timer = setTimeout(function() {
        self.waiters = self.waiters.filter(function(x) { return x !== w; });
        reject(FeatureError('timeout after ' + ms + ' ms waiting for ' + what));
      }, ms);
      self.check();
    });
  };

  // The bytes of a received binary value, or null if it is not binary.
  Matrix.prototype.bytes = function(v) {
    return this.env.bytes(v);
  };

  Matrix.prototype.expectBytes = function(v, expected, what) {
    var got = this.bytes(v);
    check(got !== null, what + ': expected binary, got ' + JSON.stringify(v));
    check(JSON.stringify(got) === JSON.stringify(expected),
      what + ': expected bytes ' + JSON.stringify(expected) + ', got ' + JSON.stringify(got));
  };

  function same(actual, expected, what) {
    var a = JSON.stringify(actual);
    var e = JSON.stringify(expected);
    check(a === e, what + ': expected ' + e + ', got ' + a);
  }

  Matrix.prototype.run = async function() {
    var self = this;
    var results = [];
    var run = async function(feature, body) {
      self.failure = null;
      var result;
      try {
        var detail = await body();
        result = { feature: feature, ok: true, detail: detail || '' };
      } catch (e) {
        result = { feature: feature, ok: false, detail: e && e.isFeatureError ? e.message : String((e && e.stack) || e) };
      }
      self.failure = null;
      results.push(result);
      self.env.report(result);
      return result;
    };
    var A = null;
    var welcome = null;

    await run('connect', async function() {
      A = self.client('/matrix');
      var w = A.expect('welcome');
      await A.connected();
      welcome = (await w)[0];
      check(welcome.protocol === self.protocol, 'server sees protocol ' + welcome.protocol + ', expected ' + self.protocol);
      var expectedId = self.env.client === '1' ? '/matrix#' + A.socket.id : A.socket.id;
      check(welcome.id === expectedId, 'server id ' + welcome.id + ', client id ' + A.socket.id);
      check(welcome.sid === A.engine().id, 'server session ' + welcome.sid + ', client session ' + A.engine().id);
      check(welcome.nsp === '/matrix', 'namespace ' + welcome.nsp);
      return 'protocol ' + welcome.protocol + ', server transport ' + welcome.transport + ', client transport ' + A.engine().transport.name;
    });
    if (!A || !welcome) {
      FEATURES.slice(1).forEach(function(f) { self.env.report({ feature: f, ok: false, detail: 'not run: no connection' }); });
      return false;
    }

    await run('events', async function() {
      var payload = ['hi', 42, 1.5, true, null, { a: [true, { b: 'c' }] }, [1, 'x', null], ''];
      var back = A.expect('echo-back');
      A.emit.apply(A, ['echo'].concat(payload));
      same(await back, payload, 'echo-back');
      // socket.io-client 1.x UTF-8-encodes what it sends over polling and
      // decodes what it receives over polling (Engine.IO protocol 2 habit),
      // as against the 2.x reference server: non-ASCII text round-trips
      // only if both directions use the same transport, so with an upgrade
      // pending it is sent once the client is on WebSocket.
      var quirk = self.env.client === '1' && self.env.transport === 'upgrade';
      if (quirk) await self.until(function() { return A.upgrades > 0; }, 'the upgrade to WebSocket');
      // In a browser, 1.x reads XHR2 polling responses byte by byte as
      // characters while the length prefixes count characters: non-ASCII
      // text from the server breaks its payload parser (transport error).
      var skipText = self.env.client === '1' && self.env.transport === 'polling' && self.env.browser;
      if (!skipText) {
        var text = A.expect('echo-back');
        A.emit('echo', 'héllo wörld ✓ 🎉', { 'ключ': 'значение' });
        same(await text, ['héllo wörld ✓ 🎉', { 'ключ': 'значение' }], 'non-ASCII echo-back');
      }
      var pushed = A.expect('pushed');
      A.emit('push-me', 3);
      same(await pushed, [0, 1, 2], 'server-initiated pushes');
      return 'client→server and server→client; strings, numbers, objects, arrays' +
        (skipText ? '; non-ASCII text not sent (1.x XHR2 polling quirk in browsers)' :
          '; non-ASCII text' + (quirk ? ' (sent after the upgrade: 1.x polling UTF-8 quirk)' : ''));
    });

    await run('acks', async function() {
      var r = await A.ack('ack-me', 'x', 7, { k: 'v' });
      same(r, ['x', 7, { k: 'v' }], 'ack from the server');
      A.socket.once('question', function(q, n, callback) {
        callback('because', q + n);
      });
      var answer = A.expect('answer-was');
      A.emit('ask-client');
      same(await answer, ['because', 'why?7'], 'ack from the client, as the server saw it');
      return 'client→server ack and server→client ack';
    });

    await run('binary', async function() {
      var bin = self.env.bin;
      var down = A.expect('download');
      var r = await A.ack('upload', bin([1, 2, 3, 255]), { nested: bin([0, 128, 255]), label: 'n' });
      same(r, [4, 3, 'n'], 'ack of upload (lengths the server received)');
      var d = await down;
      self.expectBytes(d[0], [255, 3, 2, 1], 'download[0]');
      check(d[1] && typeof d[1] === 'object', 'download[1] is not an object: ' + JSON.stringify(d[1]));
      self.expectBytes(d[1].nested, [255, 128, 0], 'download[1].nested');
      same(d[2], 'name', 'download[2]');
      A.socket.once('bin-question', function(data, callback) {
        var got = self.bytes(data);
        callback(bin([9, 8]), got === null ? 'not binary' : got.join(','));
      });
      var answer = A.expect('bin-answer-was');
      A.emit('ask-binary');
      var a = await answer;
      self.expectBytes(a[0], [9, 8], 'binary in the client\'s ack');
      same(a[1], '1,2', 'binary in the server\'s question');
      return 'top-level and nested, events and acks, both ways';
    });

    await run('namespace', async function() {
      var N = self.multiplexed(A, '/matrix-ns');
      var w = N.expect('ns-welcome');
      await N.connected();
      var nw = (await w)[0];
      same(nw.nsp, '/matrix-ns', 'namespace the server saw');
      check(nw.sid === welcome.sid, 'not multiplexed: /matrix-ns on session ' + nw.sid + ', /matrix on ' + welcome.sid);
      var before = A.count('echo-back');
      var back = N.expect('echo-back');
      N.emit('echo', 'n1');
      same(await back, ['/matrix-ns', 'n1'], 'echo in /matrix-ns');
      await A.fence();
      check(A.count('echo-back') === before, '/matrix got an event of /matrix-ns');
      N.close();
      await self.until(function() { return !N.socket.connected; }, 'N disconnected');
      // the shared connection survives the namespace's disconnect
      same(await A.ack('ack-me', 'still'), ['still'], '/matrix after /matrix-ns left');
      return '/matrix and /matrix-ns on one Engine.IO session';
    });

    await run('rooms', async function() {
      var room = 'room-' + Math.random().toString(36).slice(2);
      var B = self.client('/matrix');
      var C = self.client('/matrix');
      await Promise.all([B.connected(), C.connected()]);
      same(await A.ack('join', room), ['joined', room], 'A join');
      same(await B.ack('join', room), ['joined', room], 'B join');
      var toB = B.expect('room-event');
      var allA = A.expect('room-all');
      var allB = B.expect('room-all');
      same(await A.ack('to-room', room, { x: 1 }), ['sent'], 'to-room ack');
      same(await toB, [{ x: 1 }, welcome.id], 'room-event on B (from A, sender excluded)');
      same(await allA, [room, { x: 1 }], 'room-all on A');
      same(await allB, [room, { x: 1 }], 'room-all on B');
      await Promise.all([A.fence(), B.fence(), C.fence()]);
      same([A.count('room-event'), A.count('room-all')], [0, 1], 'A: room-event, room-all');
      same([B.count('room-event'), B.count('room-all')], [1, 1], 'B: room-event, room-all');
      same([C.count('room-event'), C.count('room-all')], [0, 0], 'C (not in the room): room-event, room-all');
      B.close();
      C.close();
      return 'socket.to(room) and io.to(room) reach members only';
    });

    await run('signaling', async function() {
      // the server's own handlers on "/": codelab relays 'message' to every
      // other socket, rooms only to the sender's room (and says 'bye')
      var rooms = self.env.mode === 'rooms';
      var room = 'sig-' + Math.random().toString(36).slice(2);
      var P = self.client('');
      var Q = self.client('');
      var R = self.client('');
      await Promise.all([P.connected(), Q.connected(), R.connected()]);
      var created = P.expect('created');
      P.emit('create or join', room);
      same((await created)[0], room, 'created');
      var joined = Q.expect('joined');
      var readyQ = Q.expect('ready');
      var readyP = P.expect('ready');
      Q.emit('create or join', room);
      same((await joined)[0], room, 'joined');
      await Promise.all([readyQ, readyP]);
      var msg = Q.expect('message');
      P.emit('message', { type: 'offer', sdp: 'v=0\r\n' });
      same(await msg, [{ type: 'offer', sdp: 'v=0\r\n' }], 'message on the peer');
      await R.ack('fence');
      same(R.count('message'), rooms ? 0 : 1, 'message on a socket outside the room');
      same(P.count('message'), 0, 'message echoed to the sender');
      if (rooms) {
        var bye = P.expect('bye');
        Q.close();
        same(await bye, [room], 'bye to the remaining peer');
      } else {
        Q.close();
      }
      P.close();
      R.close();
      return self.env.mode + ' mode: create or join, ready, message' + (rooms ? ' (room only), bye' : ' (to every other socket)');
    });

    await run('transport', async function() {
      var t = self.env.transport;
      if (t === 'upgrade') {
        await self.until(function() { return A.upgrades > 0; }, 'the upgrade to WebSocket');
      }
      var server = (await A.ack('whoami'))[0];
      var client = A.engine().transport.name;
      var expected = t === 'polling' ? 'polling' : 'websocket';
      check(client === expected, 'client transport ' + client + ', expected ' + expected);
      check(server.transport.toLowerCase() === expected, 'server transport ' + server.transport + ', expected ' + expected);
      check(t === 'upgrade' ? A.upgrades === 1 : A.upgrades === 0, 'upgrades: ' + A.upgrades);
      check(server.sid === welcome.sid, 'session changed: ' + server.sid + ' (was ' + welcome.sid + ')');
      return t === 'upgrade' ? 'polling, then upgraded to websocket on the same session' : 'only ' + expected;
    });

    // server-disconnect: checked now, and once more after the idle period
    // (reconnection is on: after "io server disconnect" a client must not
    // come back), then reported
    var kicked = null;
    var kickFailure = null;
    try {
      self.failure = null;
      var K = self.client('/matrix', { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100, randomizationFactor: 0 });
      await K.connected();
      K.dropExpected = true;
      K.emit('kick');
      await self.until(function() { return K.disconnects.length > 0; }, 'K disconnect');
      same(K.disconnects, ['io server disconnect'], 'disconnect reasons');
      check(!K.socket.connected, 'K still connected');
      kicked = K;
    } catch (e) {
      kickFailure = e;
    }

    await run('idle', async function() {
      var engine = A.engine();
      var sid = engine.id;
      var pongs = A.pongs;
      var disconnects = A.disconnects.length;
      var interval = engine.pingInterval || engine._pingInterval;  // 4.x keeps it private
      check(interval > 0, "the client does not know its pingInterval");
      await delay(self.env.idle);  // deliberate: nothing happens but heartbeats
      var beats = A.pongs - pongs;
      check(A.disconnects.length === disconnects && A.socket.connected, 'A disconnected while idle: ' + A.disconnects.join(', '));
      check(A.engine() === engine && engine.id === sid, 'the Engine.IO session changed while idle');
      var minimum = Math.max(3, Math.floor(self.env.idle / interval) - 2);
      check(beats >= minimum, beats + ' heartbeats in ' + self.env.idle + ' ms with pingInterval ' + interval + ' (expected at least ' + minimum + ')');
      var server = (await A.ack('whoami'))[0];
      check(server.sid === sid, 'the server has another session: ' + server.sid);
      same(await A.ack('ack-me', 'awake'), ['awake'], 'ack after idle');
      return beats + ' heartbeats in ' + self.env.idle + ' ms (pingInterval ' + interval + ' ms), same session';
    });

    await run('server-disconnect', async function() {
      if (kickFailure) throw kickFailure;
      check(kicked.connects === 1, 'K reconnected after a server disconnect (' + kicked.connects + ' connects)');
      kicked.close();
      return 'reason "io server disconnect"; no reconnection during the idle period';
    });

    await run('restart', async function() {
      var R = self.client('/matrix', { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200, randomizationFactor: 0, timeout: 3000 });
      var first = R.expect('welcome');
      await R.connected();
      var w1 = (await first)[0];
      A.close();
      R.dropExpected = true;
      // the wait spans the server's stop and start and the client's reconnection, as the two waits below do
      var second = R.expect('welcome', 15000);
      await self.env.readyForRestart();
      await self.until(function() { return R.disconnects.length > 0; }, 'R to notice the restart', 15000);
      await self.until(function() { return R.connects >= 2; }, 'R to reconnect', 15000);
      var w2 = (await second)[0];
      check(w2.id !== w1.id, 'same socket id after the restart');
      check(w2.sid === R.engine().id, 'server session ' + w2.sid + ', client session ' + R.engine().id);
      // from here a drop fails the run: the restart costs exactly one
      R.dropExpected = false;
      same(await R.ack('ack-me', 'back'), ['back'], 'ack after the restart');
      var back = R.expect('echo-back');
      R.emit('echo', 'again');
      same(await back, ['again'], 'echo after the restart');
      check(R.disconnects.length === 1 && R.connects === 2, 'expected one drop and one reconnect: disconnects ' +
        R.disconnects.join(', ') + '; ' + R.connects + ' connects');
      var detail = 'dropped (' + R.disconnects[0] + '), reconnected on its own to the new server';
      R.close();
      return detail;
    });

    this.clients.forEach(function(c) { c.close(); });
    return results.every(function(r) { return r.ok; });
  };

  // The bytes of a binary value (Buffer, ArrayBuffer, typed array), else null.
  function bytesOf(v) {
    if (v instanceof ArrayBuffer) return Array.prototype.slice.call(new Uint8Array(v));
    if (v !== null && typeof v === 'object' && ArrayBuffer.isView(v)) {
      return Array.prototype.slice.call(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    }
    return null;
  }

  function runMatrix(env) {
    env.bytes = env.bytes || bytesOf;
    return new Matrix(env).run();
  }

  // -------------------------------------------------------------------------
  // Node

  var CLIENT_PACKAGES = {
    '1': 'socket.io-client-1',
    '2': 'socket.io-client-2',
    '3': 'socket.io-client-3',
    '4': 'socket.io-client-4'
  };

  var USAGE = 'usage: node matrix.js --url http://127.0.0.1:PORT --client 1|2|3|4 ' +
    '--transport polling|websocket|upgrade [--mode codelab|rooms] [--timeout MS (default 5000)] ' +
    '[--idle MS (default 1500)]';

  function parseArgs(argv) {
    var opts = { timeout: 5000, idle: 1500, mode: 'codelab' };
    for (var i = 0; i < argv.length; i++) {
      var m = /^--([a-z]+)(?:=(.*))?$/.exec(argv[i]);
      if (!m) throw new Error('unexpected argument: ' + argv[i]);
      var value = m[2] !== undefined ? m[2] : argv[++i];
      if (value === undefined) throw new Error('missing value for --' + m[1]);
      switch (m[1]) {
        case 'url': opts.url = value; break;
        case 'client': opts.client = value; break;
        case 'transport': opts.transport = value; break;
        case 'mode': opts.mode = value; break;
        case 'timeout': opts.timeout = Number(value); break;
        case 'idle': opts.idle = Number(value); break;
        default: throw new Error('unknown option --' + m[1]);
      }
    }
    if (!opts.url) throw new Error('--url is required');
    if (!CLIENT_PACKAGES[opts.client]) throw new Error('--client must be 1, 2, 3 or 4');
    if (['polling', 'websocket', 'upgrade'].indexOf(opts.transport) < 0) throw new Error('--transport must be polling, websocket or upgrade');
    if (['codelab', 'rooms'].indexOf(opts.mode) < 0) throw new Error('--mode must be codelab or rooms');
    if (!(opts.timeout > 0) || !(opts.idle > 0)) throw new Error('bad --timeout/--idle');
    return opts;
  }

  // Lines from stdin, one waiter at a time.
  function stdinLines() {
    var buffered = [];
    var waiting = null;
    var rest = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', function(chunk) {
      var parts = (rest + chunk).split('\n');
      rest = parts.pop();
      parts.forEach(function(line) {
        line = line.replace(/\r$/, '');
        if (waiting) { var w = waiting; waiting = null; w(line); } else buffered.push(line);
      });
    });
    return function next(timeout) {
      if (buffered.length) return Promise.resolve(buffered.shift());
      return new Promise(function(resolve, reject) {
        var timer = setTimeout(function() { waiting = null; reject(FeatureError('no line on stdin within ' + timeout + ' ms')); }, timeout);
        waiting = function(line) { clearTimeout(timer); resolve(line); };
      });
    };
  }

  async function nodeMain() {
    var opts;
    try {
      opts = parseArgs(process.argv.slice(2));
    } catch (e) {
      process.stderr.write('matrix.js: ' + e.message + '\n' + USAGE + '\n');
      process.exit(2);
    }
    var nextLine = stdinLines();
    var env = {
      io: require(CLIENT_PACKAGES[opts.client]),
      url: opts.url,
      client: opts.client,
      transport: opts.transport,
      mode: opts.mode,
      timeout: opts.timeout,
      idle: opts.idle,
      bin: function(bytes) { return Buffer.from(bytes); },
      bytes: bytesOf,
      report: function(result) { process.stdout.write(JSON.stringify(result) + '\n'); },
      readyForRestart: async function() {
        process.stdout.write('READY-FOR-RESTART\n');
        var line = await nextLine(30000);
        if (line !== 'RESTARTED') throw FeatureError('expected RESTARTED on stdin, got ' + JSON.stringify(line));
      }
    };
    var ok;
    try {
      ok = await runMatrix(env);
    } catch (e) {
      process.stderr.write('matrix.js: ' + ((e && e.stack) || e) + '\n');
      ok = false;
    }
    process.stdout.write('', function() { process.exit(ok ? 0 : 1); });
  }

  if (typeof module !== 'undefined' && module.exports && typeof require === 'function' && require.main === module) {
    nodeMain();
  } else if (typeof module !== 'undefined' && module.exports) {
    module.exports = { runMatrix: runMatrix, FEATURES: FEATURES };
  } else {
    root.runMatrix = runMatrix;
    root.MATRIX_FEATURES = FEATURES;
  }
})(this);
