'use strict';

// The seed's index.js (see reference-index.js) on socket.io 4.8.1, adapted
// only where the 4.x API differs:
//   - the server is created with require('socket.io-4')(app, options)
//     (4.x has no static socketIO.listen());
//   - io.sockets.adapter.rooms is a Map of room -> Set of socket ids, so the
//     count is rooms.get(room).size instead of Object.keys(...sockets).length;
//   - it prints one line "listening <port>" once listening (PORT=0 picks a
//     free port).
// ALLOW_EIO3=1 additionally lets 1.x/2.x clients (Engine.IO 3) connect.
// Note: 4.x keys rooms by the value itself (Map), not by its string form, so
// non-string room values (42, true, {...}) do not behave like on 2.x.

var os = require('os');
var nodeStatic = require('node-static');
var http = require('http');
var socketIO = require('socket.io-4');

var fileServer = new(nodeStatic.Server)(process.env.STATIC_ROOT);
var app = http.createServer(function(req, res) {
  fileServer.serve(req, res);
}).listen(process.env.PORT || 8080, function() {
  console.log('listening ' + app.address().port);
});

var io = socketIO(app, { allowEIO3: process.env.ALLOW_EIO3 === '1' });
io.sockets.on('connection', function(socket) {

  // convenience function to log server messages on the client
  function log() {
    var array = ['Message from server:'];
    array.push.apply(array, arguments);
    socket.emit('log', array);
  }

  socket.on('message', function(message) {
    log('Client said: ', message);
    // for a real app, would be room-only (not broadcast)
    socket.broadcast.emit('message', message);
  });

  socket.on('create or join', function(room) {
    log('Received request to create or join room ' + room);

    var clientsInRoom = io.sockets.adapter.rooms.get(room);
    var numClients = clientsInRoom ? clientsInRoom.size : 0;

    log('Room ' + room + ' now has ' + numClients + ' client(s)');

    if (numClients === 0) {
      socket.join(room);
      log('Client ID ' + socket.id + ' created room ' + room);
      socket.emit('created', room, socket.id);

    } else if (numClients === 1) {
      log('Client ID ' + socket.id + ' joined room ' + room);
      io.sockets.in(room).emit('join', room);
      socket.join(room);
      socket.emit('joined', room, socket.id);
      io.sockets.in(room).emit('ready');
    } else { // max two clients
      socket.emit('full', room);
    }
  });

  socket.on('ipaddr', function() {
    var ifaces = os.networkInterfaces();
    for (var dev in ifaces) {
      ifaces[dev].forEach(function(details) {
        if (details.family === 'IPv4' && details.address !== '127.0.0.1') {
          socket.emit('ipaddr', details.address);
        }
      });
    }
  });

});
