#!/usr/bin/env python3
"""aio_server.py - a small asyncio HTTP server for the real-server tests.

    aio_server.py PORT [BACKLOG]

Listens on 127.0.0.1:PORT with asyncio.start_server(backlog=BACKLOG,
default 100): one non-blocking listener, and the event loop's accept loop
(asyncio accepts until EAGAIN). Answers each request with a small
"HTTP/1.0 200" reply and closes. Prints "ready PORT" once listening. SIGINT
or SIGTERM end it with a normal exit (status 0), so that libraries' exit
handlers run (an unhandled KeyboardInterrupt would re-kill the process with
SIGINT, skipping them).
"""
import asyncio
import signal
import sys


async def handle(reader, writer):
    try:
        await reader.readline()
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
        await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main(port, backlog):
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    server = await asyncio.start_server(handle, "127.0.0.1", port,
                                        backlog=backlog)
    print("ready", server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]),
                     int(sys.argv[2]) if len(sys.argv) > 2 else 100))
    sys.exit(0)
