"""The seed's index.js handlers on python-socketio 5.7 (aiohttp), for the benchmark.

Run with Debian's packages (apt-get install python3-socketio python3-aiohttp):
    PORT=3000 /usr/bin/python3 bench/python/server.py
BENCH_PING_INTERVAL (ms) shortens the heartbeat as bench/node/with-ping-interval.js does for Node.
Only the Socket.IO endpoint is served (the benchmark needs no static files). Prints "listening <port>".
"""
import asyncio
import os
import socket

import socketio
from aiohttp import web

ping_ms = int(os.environ.get('BENCH_PING_INTERVAL', '0') or '0')
options = {'ping_interval': ping_ms / 1000} if ping_ms > 0 else {}
# Any origin, as socket.io 2.x/4.x answer the load generator's clients; logging off, as Node's debug is.
sio = socketio.AsyncServer(async_mode='aiohttp', cors_allowed_origins='*', logger=False, engineio_logger=False, **options)
app = web.Application()
sio.attach(app)


async def log(sid, *args):
    await sio.emit('log', ['Message from server:', *args], to=sid)


@sio.on('message')
async def message(sid, data):
    await log(sid, 'Client said: ', data)
    # for a real app, would be room-only (not broadcast)
    await sio.emit('message', data, skip_sid=sid)


@sio.on('create or join')
async def create_or_join(sid, room):
    await log(sid, 'Received request to create or join room ' + str(room))
    num_clients = len(list(sio.manager.get_participants('/', room))) if room in sio.manager.rooms.get('/', {}) else 0
    await log(sid, 'Room ' + str(room) + ' now has ' + str(num_clients) + ' client(s)')
    if num_clients == 0:
        sio.enter_room(sid, room)
        await log(sid, 'Client ID ' + sid + ' created room ' + str(room))
        await sio.emit('created', (room, sid), to=sid)
    elif num_clients == 1:
        await log(sid, 'Client ID ' + sid + ' joined room ' + str(room))
        await sio.emit('join', room, room=room)
        sio.enter_room(sid, room)
        await sio.emit('joined', (room, sid), to=sid)
        await sio.emit('ready', room=room)
    else:  # max two clients
        await sio.emit('full', room, to=sid)


@sio.on('ipaddr')
async def ipaddr(sid):
    for address in socket.gethostbyname_ex(socket.gethostname())[2]:
        if address != '127.0.0.1':
            await sio.emit('ipaddr', address, to=sid)


@sio.on('bye')
async def bye(sid, *args):
    print('received bye')


async def main():
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, '127.0.0.1', int(os.environ.get('PORT', '8080')), backlog=4096)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print('listening', port, flush=True)
    while True:
        await asyncio.sleep(3600)


if __name__ == '__main__':
    asyncio.run(main())
