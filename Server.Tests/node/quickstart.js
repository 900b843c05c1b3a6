// Connects one socket.io-client generation to the README's quick start server and checks what it promises:
// an acknowledged echo, a room join, a room broadcast. Prints one JSON line; exits 0 when all held.
// Usage: node quickstart.js <url> <client major: 1|2|3|4>
const [url, major] = process.argv.slice(2);
const io = require(`socket.io-client-${major}`);
const connect = major === '1' || major === '2' ? io.connect : io;
const timer = setTimeout(() => { console.log(JSON.stringify({ ok: false, why: 'timeout' })); process.exit(1); }, 15000);

const a = connect(url, { forceNew: true, reconnection: false });
const b = connect(url, { forceNew: true, reconnection: false });
const result = { client: major };
let connected = 0;
const onConnect = () => { if (++connected === 2) run(); };
a.on('connect', onConnect);
b.on('connect', onConnect);
a.on('connect_error', (e) => { console.log(JSON.stringify({ ok: false, why: String(e) })); process.exit(1); });

function run() {
  a.emit('echo', { hello: 'world', n: 1 }, (back) => {
    result.echo = back;
    b.emit('join', 'lobby', (joined) => {
      result.join = joined;
      b.on('chat', (text) => {
        result.chat = text;
        clearTimeout(timer);
        result.ok = result.echo && result.echo.hello === 'world' && result.join === 'joined lobby' && text === 'hi lobby';
        console.log(JSON.stringify(result));
        a.close();
        b.close();
        process.exit(result.ok ? 0 : 1);
      });
      a.emit('chat', 'lobby', 'hi lobby');
    });
  });
}
