"""The sandbox's forwarder (mlepipe/gateway/forward.py) on its own: the real launcher, run as the
harness runs it (`python -I`), between real TCP clients and a real Unix-socket server standing in
for the gateway. Every connection gets its own bytes back, many at once and in both directions;
half-closes pass through; a slow reader holds the bytes back instead of filling the forwarder's
memory; an unreachable gateway is answered 502."""

from __future__ import annotations

import json
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FORWARD = REPO / "mlepipe" / "gateway" / "forward.py"


class Echo(socketserver.BaseRequestHandler):
    """Sends back what it reads; once the client has ended sending, `END <bytes read>`."""

    def handle(self) -> None:
        total = 0
        while data := self.request.recv(1 << 16):
            total += len(data)
            self.request.sendall(data)
        self.request.sendall(f"END {total}".encode())


class Greeter(socketserver.BaseRequestHandler):
    """Says hello and ends its sending side at once, then reads what comes, to the end."""

    received: list[bytes] = []

    def handle(self) -> None:
        self.request.sendall(b"hello")
        self.request.shutdown(socket.SHUT_WR)
        got = b""
        while data := self.request.recv(1 << 16):
            got += data
        Greeter.received.append(got)


class Forwarder:
    """The launcher with an agent that only waits; ``port`` is what the agent would be given."""

    def __init__(self, socket_path: Path) -> None:
        self.launcher = subprocess.Popen(
            [sys.executable, "-I", str(FORWARD), "--port", "0", "--socket", str(socket_path),
             "--", "sh", "-c", 'echo "$OPENAI_BASE_URL"; exec sleep 1000'],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        url = self.launcher.stdout.readline().strip()
        self.port = int(url.rsplit(":", 1)[1].split("/")[0])
        children = Path(f"/proc/{self.launcher.pid}/task/{self.launcher.pid}/children")
        self.pid = int(children.read_text().split()[0])

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=30)

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.pid}/status").read_text()
        return int(next(x for x in status.splitlines() if x.startswith("VmRSS")).split()[1])

    def threads(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/task"))

    def stop(self) -> None:
        self.launcher.kill()
        self.launcher.wait()


def serve(handler: type, path: Path) -> socketserver.ThreadingUnixStreamServer:
    server = socketserver.ThreadingUnixStreamServer(str(path), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def echo(tmp_path):
    server = serve(Echo, tmp_path / "echo.sock")
    forwarder = Forwarder(tmp_path / "echo.sock")
    yield forwarder
    forwarder.stop()
    server.shutdown()


def read_all(conn: socket.socket) -> bytes:
    parts = []
    while data := conn.recv(1 << 16):
        parts.append(data)
    return b"".join(parts)


def test_many_connections_at_once_each_get_their_own_bytes_back(echo):
    n, size = 100, 300_000
    results: dict[int, bytes] = {}
    payloads = {i: os.urandom(size) for i in range(n)}

    all_open = threading.Barrier(n + 1, timeout=60)

    def client(i: int) -> None:
        with echo.connect() as conn:
            conn.sendall(payloads[i][:1])
            first = conn.recv(1)
            all_open.wait()  # every connection is through at this point
            all_open.wait()
            reader = threading.Thread(target=lambda: results.__setitem__(i, first + read_all(conn)))
            reader.start()
            for at in range(1, size, 7919):  # odd-sized writes, while the echo comes back
                conn.sendall(payloads[i][at : at + 7919])
            conn.shutdown(socket.SHUT_WR)  # half-close: the echo's END must still come
            reader.join()

    clients = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in clients:
        t.start()
    all_open.wait()
    threads = echo.threads()
    all_open.wait()
    for t in clients:
        t.join(120)
    assert threads == 1  # one thread for all the connections, not a pair for each
    assert sorted(results) == list(range(n))
    for i in range(n):
        assert results[i] == payloads[i] + f"END {size}".encode(), i


def test_a_gateway_ending_its_side_first_still_hears_the_agent(tmp_path):
    Greeter.received.clear()
    server = serve(Greeter, tmp_path / "greeter.sock")
    forwarder = Forwarder(tmp_path / "greeter.sock")
    try:
        with forwarder.connect() as conn:
            assert read_all(conn) == b"hello"  # the gateway's end of sending reaches the agent
            conn.sendall(b"still here")
            conn.shutdown(socket.SHUT_WR)
            assert conn.recv(10) == b""
        deadline = time.monotonic() + 10
        while not Greeter.received and time.monotonic() < deadline:
            time.sleep(0.02)
        assert Greeter.received == [b"still here"]
    finally:
        forwarder.stop()
        server.shutdown()


def test_a_slow_reader_holds_bytes_back_instead_of_filling_memory(echo):
    size = 64 * 1024 * 1024  # more than all the socket buffers on the way hold
    before = peak = echo.rss_kib()
    with echo.connect() as conn:
        chunk = os.urandom(1 << 20)
        sender = threading.Thread(target=lambda: [conn.sendall(chunk) for _ in range(64)])
        sender.start()
        received, reads = 0, 0
        while received < size:  # a reader far slower than the sender
            received += len(conn.recv(1 << 14))
            reads += 1
            if reads % 16 == 0:
                time.sleep(0.001)
                peak = max(peak, echo.rss_kib())
        sender.join()
        conn.shutdown(socket.SHUT_WR)
        assert read_all(conn) == f"END {size}".encode()
    assert peak - before < 16 * 1024, (before, peak)  # KiB: the bytes never piled up there


def test_an_unreachable_gateway_is_answered_502(tmp_path):
    forwarder = Forwarder(tmp_path / "nobody-listens.sock")
    try:
        with forwarder.connect() as conn:
            conn.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = read_all(conn)
        head, body = answer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 502")
        assert json.loads(body)["error"]["type"] == "gateway_unavailable"
    finally:
        forwarder.stop()
