#!/usr/bin/env node
'use strict';

// permessage-deflate with socket.io-client 4 in Node (ws offers it when the client's perMessageDeflate option is
// set, which engine.io-client does by default, threshold 1024). Connects over WebSocket, prints the extension ws
// agreed, sends a large 'message' and waits for the server's 'log' that carries it back, then prints one JSON line:
//   {"extensions":"permessage-deflate; ...","echoed":true,"length":N}
//   node deflate.js --url http://127.0.0.1:PORT [--threshold N]
var args = process.argv.slice(2);
function arg(name, fallback) {
  var i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
}
var io = require('socket.io-client-4');
var url = arg('--url');
var threshold = parseInt(arg('--threshold', '1024'), 10);
var big = 'deflate me '.repeat(2000);
var socket = io(url, { transports: ['websocket'], perMessageDeflate: { threshold: threshold }, reconnection: false });
var timer = setTimeout(function () { console.error('timeout'); process.exit(1); }, 15000);
socket.on('connect_error', function (e) { console.error('connect_error', e.message); process.exit(1); });
socket.on('connect', function () {
  var ws = socket.io.engine.transport.ws;
  socket.on('log', function () {
    var text = JSON.stringify(Array.prototype.slice.call(arguments));
    if (text.indexOf(big) < 0) return;
    clearTimeout(timer);
    console.log(JSON.stringify({ extensions: ws.extensions, echoed: true, length: text.length }));
    socket.close();
    process.exit(0);
  });
  socket.emit('message', big);
});
