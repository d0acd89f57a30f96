#!/usr/bin/env python3
"""A TCP proxy that puts a network round trip in front of a loopback server.

    python3 Benchmarks/latency_proxy.py --listen 127.0.0.1:0 --to 127.0.0.1:8080 --rtt-ms 30 \\
        [--max-buffer BYTES] [--parent-pid PID] [--lifetime SECONDS] [--stats FILE]
    python3 Benchmarks/latency_proxy.py --self-test

bench.py runs its hub (nginx + giftless) on loopback, where a round trip costs microseconds and a
client that makes many sequential requests looks better than it would over a real network. Kernel
netem is not available, so this proxy adds the latency in user space: it listens on a loopback
address (nothing else is accepted), and for each connection it accepts it opens one connection to
the --to address and relays both directions through a delay line. Once listening it prints one line,
`ready HOST:PORT`, to stdout (with --listen HOST:0 that line tells the port it picked).

What it models
--------------
* Latency. Every chunk is delivered rtt/2 after the moment the proxy read it, in each direction, in
  order, so a request/response exchange on an open connection costs one RTT more than without it.
* Connection setup. A user-space proxy cannot delay the client's TCP handshake: the kernel completes
  it on loopback at once, so the client's connect() returns immediately (curl's time_connect is
  ~0). Instead, the handshake's round trip is charged to the first bytes. With t0 the moment the
  proxy accepted the connection:
    - the upstream connection is opened at t0 + rtt/2, when the client's SYN would reach the server;
    - client bytes count as sent no earlier than t0 + rtt, when the client's connect() would have
      returned, so they reach the server at t0 + 1.5 rtt at the earliest;
    - server bytes count as sent no earlier than t0 + 1.5 rtt, when the server's accept() would have
      returned (the client's final ACK arriving), so they reach the client at t0 + 2 rtt at the
      earliest, whichever side speaks first.
  So the first response on a new connection arrives two RTTs after connect, as on a real path, but a
  client's own timing shows it as time to first byte rather than connect time. The server's
  application sees the connection at t0 + rtt/2 rather than t0 + 1.5 rtt; that matters only to its
  own idle timers. If the upstream connect fails, the client gets a reset (RST) at t0 + rtt instead
  of ECONNREFUSED from connect().
* End of stream. EOF travels like data: after the bytes before it, rtt/2 after it was read; then the
  proxy shuts down its write side toward the peer (half-close) and keeps relaying the other
  direction. The connection is closed once both directions have delivered their EOF.
* Resets. When one side fails (reset by its peer, or a write to it fails), the bytes already read
  from it are still delivered, and then the other side is reset, so the reset follows them by rtt/2
  as it would on the wire; bytes travelling toward the failed side are dropped.
* Back-pressure. Per direction at most --max-buffer bytes (default 16 MiB) wait in the delay line;
  beyond that the proxy stops reading from that side until the writer catches up, so memory is
  bounded and TCP flow control reaches the sender. Memory per direction is at most max-buffer plus
  one 256 KiB read plus the 1 MiB socket-side write buffer.

What it does not model
----------------------
* No packet loss, reordering or jitter; the delay is a lower bound (event-loop scheduling adds
  typically well under a millisecond).
* No bandwidth cap: the storage host's per-connection cap comes from nginx limit_rate.
* No Nagle/delayed-ACK interaction, slow start or congestion control: a sender runs at loopback
  speed into the proxy from its first byte.
* Not a real TCP window either: a real path caps one connection at window/RTT, but here the ACKs come
  back from the proxy at loopback speed, and the only cap is the delay line itself. A direction
  holds at most max-buffer bytes for rtt/2, so it carries at most max_buffer / (rtt/2) per second
  (16 MiB at 50 ms: ~670 MB/s), like a real window of 2 x max-buffer. Lower --max-buffer to model
  a smaller window.
* The delay counts from when the proxy read the bytes. Time they spent in kernel buffers before that
  (while the proxy applies back-pressure) adds to it, as queueing would on a real path.

It exits on its own when --parent-pid is gone (checked every second) and after --lifetime seconds
(default 6 hours); on SIGTERM or SIGINT it closes everything and exits 0. With --stats FILE it
writes {"connections": N, "bytes_up": N, "bytes_down": N} to FILE on exit and on SIGUSR1.
Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import ipaddress
import json
import os
import random
import signal
import socket
import struct
import sys

MIB = 1 << 20
# asyncio's selector transports read up to 256 KiB per recv() (their max_size), which is the chunk
# size we want: large enough that per-chunk Python work is negligible at hundreds of MB/s.
CHUNK = 256 * 1024
DEFAULT_MAX_BUFFER = 16 * MIB
# Bytes the transport may hold for a slow reader before the writer waits; bigger than a chunk so
# that a fast reader never makes the writer stop between chunks.
WRITE_HIGH_WATER = 1 * MIB
WRITE_LOW_WATER = 256 * 1024
DEFAULT_LIFETIME_S = 6 * 3600
PARENT_CHECK_INTERVAL_S = 1.0

# Markers that travel in a pipe's queue after the data.
EOF = "eof"
RESET = "reset"


def log(message: str) -> None:
    print(f"latency_proxy: {message}", file=sys.stderr, flush=True)


async def sleep_until(loop: asyncio.AbstractEventLoop, when: float) -> None:
    wait = when - loop.time()
    if wait > 0:
        await asyncio.sleep(wait)


class Side(asyncio.Protocol):
    """One socket of a relayed connection: the accepted client or the upstream server."""

    def __init__(self, conn: Connection, name: str):
        self.conn = conn
        self.name = name
        self.transport: asyncio.Transport | None = None
        self.connected = asyncio.Event()
        self.lost = False
        self._writable = asyncio.Event()
        self._writable.set()

    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # asyncio already does this for TCP, but small requests must never wait for an ACK.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport.set_write_buffer_limits(high=WRITE_HIGH_WATER, low=WRITE_LOW_WATER)
        self.connected.set()
        self.conn.side_connected(self)

    def data_received(self, data):
        self.conn.received(self, data)

    def eof_received(self):
        self.conn.received(self, EOF)
        return True  # keep the socket: the other direction may still be writing to it

    def connection_lost(self, exc):
        self.lost = True
        self._writable.set()  # never leave a writer waiting on a dead socket
        self.conn.side_lost(self, exc)

    def pause_writing(self):
        self._writable.clear()

    def resume_writing(self):
        self._writable.set()

    async def drained(self) -> None:
        if not self._writable.is_set():
            await self._writable.wait()

    def reset(self) -> None:
        """Close abortively, so that the peer sees a reset and not a clean end of stream."""
        if self.transport is None or self.transport.is_closing():
            return
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        self.transport.abort()


class Pipe:
    """One direction of a connection: a FIFO of chunks, each written rtt/2 after it was read.

    One writer task per pipe sleeps until the head chunk is due, writes it and waits for the socket
    to drain; reading from the source stops while more than max_buffer bytes are queued.
    """

    def __init__(self, conn: Connection, src: Side, dst: Side, not_before: float, counter: str):
        self.conn = conn
        self.loop = conn.loop
        self.src = src
        self.dst = dst
        self.delay = conn.proxy.rtt / 2
        self.not_before = not_before  # bytes count as sent no earlier than this (connection setup)
        self.max_buffer = conn.proxy.max_buffer
        self.counter = counter
        self.queue: collections.deque[tuple[float, bytes | str]] = collections.deque()
        self.queued = 0
        self.source_paused = False
        self.abandoned = False
        self.eof_delivered = False
        self.task: asyncio.Task | None = None
        self._nonempty = asyncio.Event()

    def put(self, item: bytes | str) -> None:
        if self.abandoned:
            return
        due = max(self.loop.time(), self.not_before) + self.delay
        self.queue.append((due, item))
        self._nonempty.set()
        if isinstance(item, bytes):
            self.queued += len(item)
            self.conn.proxy.note_queued(self.queued)
            if self.queued >= self.max_buffer and not self.source_paused:
                self.source_paused = True
                self.src.transport.pause_reading()

    def abandon(self) -> None:
        """The destination is gone: drop what is queued and whatever still arrives."""
        self.abandoned = True
        self.queue.clear()
        self.queued = 0
        if self.task is not None:
            self.task.cancel()

    async def run(self) -> None:
        await self.dst.connected.wait()
        while True:
            if not self.queue:
                self._nonempty.clear()
                await self._nonempty.wait()
            due, item = self.queue[0]
            await sleep_until(self.loop, due)
            self.queue.popleft()
            if item is EOF:
                self._deliver_eof()
            elif item is RESET:
                self.dst.reset()
                self.conn.close()
                return
            else:
                await self._deliver(item)

    async def _deliver(self, data: bytes) -> None:
        self.queued -= len(data)
        self.dst.transport.write(data)
        self.conn.proxy.stats[self.counter] += len(data)
        if self.source_paused and self.queued < self.max_buffer:
            self.source_paused = False
            self.src.transport.resume_reading()
        await self.dst.drained()

    def _deliver_eof(self) -> None:
        if self.dst.transport.can_write_eof():
            try:
                self.dst.transport.write_eof()
            except OSError:
                # ENOTCONN: that side went away first (its reset is on its way through the other
                # pipe); there is no one left to tell. Not a failure of the proxy's.
                pass
        self.eof_delivered = True
        self.conn.direction_finished()


class Connection:
    """One accepted client, its upstream connection, and the two pipes between them."""

    def __init__(self, proxy: Proxy, number: int):
        self.proxy = proxy
        self.loop = proxy.loop
        self.number = number
        self.client = Side(self, "client")
        self.server = Side(self, "server")
        self.up: Pipe | None = None
        self.down: Pipe | None = None
        self.tasks: set[asyncio.Task] = set()
        self.closed = False

    def side_connected(self, side: Side) -> None:
        if self.closed:
            side.transport.abort()
        elif side is self.client:
            self._client_accepted()

    def _client_accepted(self) -> None:
        t0 = self.loop.time()
        rtt = self.proxy.rtt
        self.proxy.connections.add(self)
        self.up = Pipe(self, self.client, self.server, t0 + rtt, "bytes_up")
        self.down = Pipe(self, self.server, self.client, t0 + 1.5 * rtt, "bytes_down")
        self._spawn(self._connect_upstream(t0), "connect")
        self.up.task = self._spawn(self.up.run(), "up")
        self.down.task = self._spawn(self.down.run(), "down")

    async def _connect_upstream(self, t0: float) -> None:
        await sleep_until(self.loop, t0 + self.proxy.rtt / 2)  # the client's SYN reaches the server
        host, port = self.proxy.upstream
        try:
            await self.loop.create_connection(lambda: self.server, host, port)
        except OSError as exc:
            log(f"cannot connect to {format_address(host, port)}: {exc}")
            # A real client would learn of it when the server's RST came back, one RTT after its SYN.
            await sleep_until(self.loop, t0 + self.proxy.rtt)
            self.client.reset()
            self.close()

    def _spawn(self, coro, what: str) -> asyncio.Task:
        task = self.loop.create_task(coro, name=f"latency-proxy-{self.number}-{what}")
        self.tasks.add(task)
        self.proxy.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        self.proxy.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log(f"{task.get_name()} failed: {task.exception()!r}")
            self.client.reset()
            self.server.reset()
            self.close()

    def received(self, side: Side, item: bytes | str) -> None:
        (self.up if side is self.client else self.down).put(item)

    def direction_finished(self) -> None:
        if self.up.eof_delivered and self.down.eof_delivered:
            self.close(graceful=True)

    def side_lost(self, side: Side, exc: BaseException | None) -> None:
        if self.closed:
            return
        other = self.server if side is self.client else self.client
        if other.lost or self.up is None:
            self.close()
            return
        # What the lost side sent still travels, followed by the reset; what was on its way to it
        # has nowhere to go.
        inbound, outbound = (self.up, self.down) if side is self.client else (self.down, self.up)
        outbound.abandon()
        inbound.put(RESET)

    def close(self, graceful: bool = False) -> None:
        """Close both sockets (flushing them if graceful) and cancel this connection's tasks."""
        if self.closed:
            return
        self.closed = True
        for side in (self.client, self.server):
            if side.transport is not None and not side.transport.is_closing():
                if graceful:
                    side.transport.close()
                else:
                    side.transport.abort()
        for task in list(self.tasks):
            task.cancel()
        self.proxy.connections.discard(self)


class Proxy:
    """The listening socket and the connections it relays."""

    def __init__(self, listen: tuple[str, int], upstream: tuple[str, int], rtt: float,
                 max_buffer: int = DEFAULT_MAX_BUFFER):
        self.listen = listen
        self.upstream = upstream
        self.rtt = rtt
        self.max_buffer = max_buffer
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server: asyncio.Server | None = None
        self.connections: set[Connection] = set()
        self.tasks: set[asyncio.Task] = set()
        self.stats = {"connections": 0, "bytes_up": 0, "bytes_down": 0}
        self.peak_queued = 0  # for the self-test: the back-pressure bound must hold

    async def start(self) -> tuple[str, int]:
        """Start listening; return the address actually bound (the port may have been 0)."""
        self.loop = asyncio.get_running_loop()
        host, port = self.listen
        self.server = await self.loop.create_server(self._accept, host, port, backlog=1024)
        bound = self.server.sockets[0].getsockname()
        return bound[0], bound[1]

    def _accept(self) -> Side:
        self.stats["connections"] += 1
        return Connection(self, self.stats["connections"]).client

    def note_queued(self, queued: int) -> None:
        if queued > self.peak_queued:
            self.peak_queued = queued

    async def close(self) -> None:
        self.server.close()
        for conn in list(self.connections):
            conn.close()
        await asyncio.sleep(0)  # let the cancelled tasks finish


# Command line -------------------------------------------------------------------------------------

def parse_address(text: str) -> tuple[str, int]:
    """HOST:PORT, with an IPv6 host in brackets ([::1]:8080)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        number = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad port in {text!r}") from None
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range in {text!r}")
    return host, number


def format_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8 and ::1, given as numbers (a name could resolve to anything)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie keeps its pid until it is reaped, but the process is gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def write_stats(path: str, stats: dict) -> None:
    """Replace path atomically, so that a reader never sees half a file."""
    temporary = f"{path}.tmp.{os.getpid()}"
    with open(temporary, "w") as f:
        json.dump(stats, f)
        f.write("\n")
    os.replace(temporary, path)


async def watch_parent(pid: int, on_gone) -> None:
    while process_alive(pid):
        await asyncio.sleep(PARENT_CHECK_INTERVAL_S)
    on_gone(f"parent {pid} is gone")


async def serve(args) -> int:
    loop = asyncio.get_running_loop()
    proxy = Proxy(args.listen, args.to, args.rtt_ms / 1000, args.max_buffer)
    try:
        host, port = await proxy.start()
    except OSError as exc:
        log(f"cannot listen on {format_address(*args.listen)}: {exc}")
        return 1

    stopping = asyncio.Event()
    reasons = []

    def stop(reason: str | None = None) -> None:
        if reason and not stopping.is_set():
            reasons.append(reason)
        stopping.set()

    def dump_stats() -> None:
        if args.stats:
            try:
                write_stats(args.stats, proxy.stats)
            except OSError as exc:
                log(f"cannot write {args.stats}: {exc}")

    loop.add_signal_handler(signal.SIGTERM, stop)
    loop.add_signal_handler(signal.SIGINT, stop)
    # Also without --stats: SIGUSR1's default action would kill the process.
    loop.add_signal_handler(signal.SIGUSR1, dump_stats)
    loop.call_later(args.lifetime, stop, f"lifetime of {args.lifetime:g} s is over")
    watcher = None
    if args.parent_pid:
        watcher = loop.create_task(watch_parent(args.parent_pid, stop))

    print(f"ready {format_address(host, port)}", flush=True)
    await stopping.wait()
    for reason in reasons:
        log(f"{reason}, exiting")
    if watcher is not None:
        watcher.cancel()
    await proxy.close()
    dump_stats()
    return 0


# Self-test ----------------------------------------------------------------------------------------

async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Echo everything; on EOF, close after the last byte, so the client sees EOF after the echo."""
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def _read_to_eof(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while data := await reader.read(CHUNK):
        parts.append(data)
    return b"".join(parts)


async def self_test() -> int:
    rtt = 0.050
    max_buffer = 1 * MIB  # small, so that the 8 MiB transfer exercises back-pressure
    loop = asyncio.get_running_loop()
    echo = await asyncio.start_server(_echo, "127.0.0.1", 0)
    echo_port = echo.sockets[0].getsockname()[1]
    proxy = Proxy(("127.0.0.1", 0), ("127.0.0.1", echo_port), rtt, max_buffer)
    host, port = await proxy.start()
    print(f"echo server on 127.0.0.1:{echo_port}, proxy on {format_address(host, port)}, "
          f"rtt {rtt * 1000:.0f} ms, max-buffer {max_buffer // MIB} MiB")
    failures = []

    def check(name: str, ok: bool, detail: str) -> None:
        print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}")
        if not ok:
            failures.append(name)

    # (1) One exchange on a new connection pays for the handshake too; later ones cost one RTT.
    start = loop.time()
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"first")
    first = await reader.readexactly(5)
    first_s = loop.time() - start
    start = loop.time()
    writer.write(b"ping")
    second = await reader.readexactly(4)
    second_s = loop.time() - start
    check("first exchange on a new connection", first == b"first" and first_s >= 2 * rtt,
          f"{first_s * 1000:.1f} ms (expected >= {2 * rtt * 1000:.0f} ms: handshake + exchange)")
    check("exchange on an open connection", second == b"ping" and second_s >= rtt,
          f"{second_s * 1000:.1f} ms (expected >= {rtt * 1000:.0f} ms)")
    writer.close()
    await writer.wait_closed()

    # (2) 8 MiB of random bytes, echoed back byte-identical and in order.
    payload = random.randbytes(8 * MIB)
    reader, writer = await asyncio.open_connection(host, port)

    async def send() -> None:
        view = memoryview(payload)
        for offset in range(0, len(payload), 64 * 1024):
            writer.write(view[offset:offset + 64 * 1024])
            await writer.drain()
        writer.write_eof()

    start = loop.time()
    _, echoed = await asyncio.gather(send(), _read_to_eof(reader))
    took = loop.time() - start
    writer.close()
    await writer.wait_closed()
    check("8 MiB echoed", echoed == payload,
          f"{len(echoed)} bytes back, identical: {echoed == payload}, {took:.2f} s "
          f"({len(payload) / took / MIB:.0f} MiB/s; cap max-buffer/(rtt/2) = "
          f"{max_buffer / (rtt / 2) / MIB:.0f} MiB/s)")
    check("back-pressure bound", proxy.peak_queued <= max_buffer + CHUNK,
          f"at most {proxy.peak_queued} bytes queued in one direction "
          f"(limit {max_buffer} + one {CHUNK}-byte read)")

    # (3) Half-close: shut down our write side first, and still receive the whole echo after it.
    message = b"half-close test\n" * 1000
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(message)
    writer.write_eof()
    await asyncio.sleep(rtt / 2)  # the echo is still on its way when we have long stopped sending
    echoed = await _read_to_eof(reader)
    writer.close()
    await writer.wait_closed()
    check("half-close", echoed == message,
          f"sent {len(message)} bytes then EOF, received {len(echoed)} bytes then EOF")

    # (4) Nothing left behind once the clients have closed (both EOFs take up to one RTT to travel).
    deadline = loop.time() + 3
    while (proxy.connections or proxy.tasks) and loop.time() < deadline:
        await asyncio.sleep(0.01)
    leftover = [t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("latency-proxy")]
    check("no connections or tasks left", not proxy.connections and not proxy.tasks and not leftover,
          f"{len(proxy.connections)} connections, {len(proxy.tasks)} tasks, "
          f"stats {json.dumps(proxy.stats)}")

    await proxy.close()
    echo.close()
    print("self-test passed" if not failures else f"self-test FAILED: {', '.join(failures)}")
    return 1 if failures else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=parse_address, metavar="HOST:PORT",
                        help="loopback address to listen on (port 0: pick a free one)")
    parser.add_argument("--to", type=parse_address, metavar="HOST:PORT", help="server to relay to")
    parser.add_argument("--rtt-ms", type=float, metavar="MS", help="round-trip time to add")
    parser.add_argument("--max-buffer", type=int, default=DEFAULT_MAX_BUFFER, metavar="BYTES",
                        help="most bytes queued per direction before reading stops (default 16 MiB)")
    parser.add_argument("--parent-pid", type=int, metavar="PID", help="exit when this process is gone")
    parser.add_argument("--lifetime", type=float, default=DEFAULT_LIFETIME_S, metavar="SECONDS",
                        help="exit after this long whatever happens (default 6 hours)")
    parser.add_argument("--stats", metavar="FILE", help="write counters as JSON on exit and on SIGUSR1")
    parser.add_argument("--self-test", action="store_true", help="check the proxy against an echo server")
    args = parser.parse_args(argv)

    if args.self_test:
        return asyncio.run(self_test())
    if args.listen is None or args.to is None or args.rtt_ms is None:
        parser.error("--listen, --to and --rtt-ms are required")
    if not is_loopback(args.listen[0]):
        parser.error(f"refusing to listen on {args.listen[0]}: only loopback addresses "
                     "(127.0.0.0/8 or ::1, as numbers) are allowed")
    if args.rtt_ms < 0 or args.max_buffer < 1 or args.lifetime <= 0:
        parser.error("--rtt-ms must be >= 0, --max-buffer and --lifetime > 0")
    return asyncio.run(serve(args))


if __name__ == "__main__":
    sys.exit(main())
