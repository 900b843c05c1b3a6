#!/usr/bin/env node
'use strict';

// Raw-frame JSON relay transcript: two raw WebSocket clients (EIO 3) on a server running the codelab's handlers.
// For each case, A sends 42["message",<JSON text exactly as below>]; the transcript line holds what B receives
// (the relay) and what A receives (the log echo), or "closed" when the server closed A. Non-JavaScript clients
// send forms JSON.stringify never writes; the reference parses them with JSON.parse and writes them again with
// JSON.stringify, so the bytes show what a server must send for each form.
//
//   node raw-json.js --url http://127.0.0.1:8091

const WebSocket = require('ws');

const CASES = [
  // numbers
  '0', '-0', '-0.0', '0.0', '1.0', '1.50', '1E5', '1e5', '1e+5', '1E+5', '1e21', '1E21', '1e+21', '1e20',
  '100000000000000000000', '1000000000000000000000', '123456789012345678901234567890', '9007199254740993',
  '9007199254740992', '-9007199254740993', '0.1', '0.000001', '0.0000001', '1e-7', '1e-6', '-1.5e-7', '1.5e-10',
  '12345678.9e3', '2e-324', '5e-324', '4.9e-324', '1.7976931348623157e308', '1.7976931348623159e308',
  '1e400', '-1e400', '1e-400', '-1e-400', '123.456e-2', '0.1e1', '-1E-0', '100', '-100', '1.25', '3.0e0',
  '[1.0,-0,{"x":1E2},[2e-324,1e400]]',
  // keys
  '{"b":1,"1":2}', '{"2":1,"1":2,"a":3,"0":4}', '{"4294967294":1,"4294967295":2,"1":3}', '{"01":1,"1":2}',
  '{"-1":1,"1":2}', '{"1.5":1,"1":2}', '{"b":1,"\\u0031":2}', '{"a":{"z":0,"10":1,"9":2},"0":[{"b":1,"3":2}]}',
  '{"1":1,"2":2}', '{"0":1}', '{"":1,"0":2}', '{"4294967295":1,"4294967294":2}', '{"b":1,"4294967295":1,"4294967294":2}',
  '{"x":0,"9007199254740991":1,"1":2}', '{"a":1,"00":2,"0":3}',
  // duplicate keys
  '{"a":1,"a":2}', '{"a":1,"b":2,"a":3}', '{"__proto__":1,"__proto__":2}', '{"__proto__":{"x":1}}',
  '{"a":{"b":1,"b":2},"a":5}', '{"1":"x","b":0,"1":"y"}', '{"a":1,"\\u0061":2}',
  '{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"k17":17,"k3":"again"}',
  // everything at once, with whitespace and escapes
  '{ "b" : 1E2 , "1" : -0 , "b" : "\\u00e9\\/" }',
  '[ {"z":1e21, "3":[ -0.0 ]}, "\\ud83d\\ude00" ]',
];

function parseArgs() {
  const args = process.argv.slice(2);
  const out = {};
  for (let i = 0; i < args.length; i += 2) out[args[i].replace(/^--/, '')] = args[i + 1];
  return out;
}

function connect(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + '/socket.io/?EIO=3&transport=websocket');
    const client = { ws, queue: [], waiters: [], closed: false };
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('0')) return; // open
      if (text === '40') {
        resolve(client);
        return;
      }
      if (text.startsWith('3')) return; // pong
      const waiter = client.waiters.shift();
      if (waiter) waiter(text);
      else client.queue.push(text);
    });
    ws.on('close', () => {
      client.closed = true;
      for (const waiter of client.waiters.splice(0)) waiter('closed');
    });
    ws.on('error', reject);
  });
}

function next(client, ms) {
  if (client.queue.length > 0) return Promise.resolve(client.queue.shift());
  if (client.closed) return Promise.resolve('closed');
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      const i = client.waiters.indexOf(waiter);
      if (i >= 0) client.waiters.splice(i, 1);
      resolve('timeout');
    }, ms);
    const waiter = (text) => {
      clearTimeout(timer);
      resolve(text);
    };
    client.waiters.push(waiter);
  });
}

async function main() {
  const { url } = parseArgs();
  const lines = [];
  let a = await connect(url);
  const b = await connect(url);
  for (const raw of CASES) {
    a.ws.send(`42["message",${raw}]`);
    const log = await next(a, 3000);
    if (log === 'closed') {
      // The sender was closed: nothing was relayed. Wait briefly to be sure, then reconnect.
      const relay = await next(b, 300);
      lines.push(`${raw}\tA: closed\tB: ${relay}`);
      a = await connect(url);
      continue;
    }
    const relay = await next(b, 3000);
    lines.push(`${raw}\tA: ${log}\tB: ${relay}`);
  }
  a.ws.close();
  b.ws.close();
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
