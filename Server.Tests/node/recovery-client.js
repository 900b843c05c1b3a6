// A socket.io-client 4.8.1 client for the connection state recovery tests: it reports on stdout, one JSON object a
// line, every connect (id, recovered), disconnect (reason) and event (name, arguments as received: the offset is the
// last one), and emits what stdin asks ({"emit": name, "args": [...]}, one a line). It exits on the event "done".
//   node recovery-client.js --url URL [--nsp /rec] [--transport websocket|polling]
'use strict';
var io = require('socket.io-client-4');
var readline = require('readline');

var opts = { url: null, nsp: '/', transport: 'websocket' };
for (var i = 2; i < process.argv.length; i += 2) {
  opts[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
}
function report(o) { process.stdout.write(JSON.stringify(o) + '\n'); }

var socket = io(opts.url + (opts.nsp === '/' ? '' : opts.nsp), {
  transports: [opts.transport],
  reconnectionDelay: 100,
  reconnectionDelayMax: 300,
  randomizationFactor: 0,
  timeout: 5000
});
socket.on('connect', function() { report({ t: 'connect', id: socket.id, recovered: socket.recovered }); });
socket.on('disconnect', function(reason) { report({ t: 'disconnect', reason: reason }); });
socket.on('connect_error', function(err) { report({ t: 'connect_error', message: String(err && err.message) }); });
socket.onAny(function(name) {
  var args = Array.prototype.slice.call(arguments, 1);
  report({ t: 'event', name: name, args: args });
  if (name === 'done') {
    socket.close();
    setTimeout(function() { process.exit(0); }, 10);
  }
});
readline.createInterface({ input: process.stdin }).on('line', function(line) {
  var cmd = JSON.parse(line);
  socket.emit.apply(socket, [cmd.emit].concat(cmd.args || []));
});
setTimeout(function() { report({ t: 'timeout' }); process.exit(2); }, 60000);
