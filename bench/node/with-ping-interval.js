'use strict';
// Runs a reference server script unchanged, with the heartbeat shortened for the benchmark:
//   BENCH_PING_INTERVAL=2000 node bench/node/with-ping-interval.js Server.Tests/node/reference-index-v4.js
// It wraps require('socket.io') / require('socket.io-4') so that the options the script passes get
// pingInterval (ms) added; without BENCH_PING_INTERVAL the script runs with its defaults.
var Module = require('module');
var path = require('path');
var ms = parseInt(process.env.BENCH_PING_INTERVAL || '', 10);
var load = Module._load;
Module._load = function (request, parent, isMain) {
  var exported = load.apply(this, arguments);
  if (ms > 0 && (request === 'socket.io' || request === 'socket.io-4') && typeof exported === 'function') {
    var wrapped = function (srv, opts) {
      return exported(srv, Object.assign({}, opts, { pingInterval: ms }));
    };
    Object.keys(exported).forEach(function (k) { wrapped[k] = exported[k]; });
    wrapped.listen = wrapped;
    return wrapped;
  }
  return exported;
};
require(path.resolve(process.argv[2]));
