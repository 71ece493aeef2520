"""The agent's launcher when it has a model gateway:

    python -I .../mlepipe/gateway/forward.py --port P --socket S -- AGENT ARGV...

It listens on 127.0.0.1:P (the sandbox's own loopback; P = 0 picks a free port, as on the host
under `sandbox: none`), sets OPENAI_BASE_URL and ANTHROPIC_BASE_URL to that address, starts a
forwarder process that passes each connection's bytes to the gateway's Unix socket S, and then
becomes the agent (exec): the agent keeps the process the harness started, so exit status, time
limit, signals and OOM detection are the agent's own. The forwarder is the agent's child and
dies with it (parent-death signal), so it never keeps a run alive. The forwarder is one thread
around a selector, however many connections the agent opens.

Runs with the harness's interpreter (any Python >= 3.8), isolated from the agent's Python
settings: standard library only.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import selectors
import signal
import socket
import sys
import time

BUFFER = 1 << 16
GATEWAY_DOWN = json.dumps(
    {"error": {"message": "the model gateway is not reachable", "type": "gateway_unavailable"}}
).encode()
GATEWAY_DOWN_ANSWER = (
    b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\n"
    + f"Content-Length: {len(GATEWAY_DOWN)}\r\nConnection: close\r\n\r\n".encode()
    + GATEWAY_DOWN
)


def main(argv: list[str] | None = None) -> int:
    args, agent = _parse(sys.argv[1:] if argv is None else argv)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(128)
    port = listener.getsockname()[1]
    parent = os.getpid()
    if os.fork() == 0:
        _die_with_parent(parent)
        try:
            _serve(listener, args.socket)
        finally:
            os._exit(0)
    listener.close()  # the agent does not hold the port
    os.environ["OPENAI_BASE_URL"] = f"http://127.0.0.1:{port}/v1"
    os.environ["ANTHROPIC_BASE_URL"] = f"http://127.0.0.1:{port}"
    try:
        os.execvp(agent[0], agent)
    except OSError as exc:
        print(f"mlepipe.gateway.forward: cannot run {agent[0]!r}: {exc.strerror}", file=sys.stderr)
        return 127


def _parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    if "--" not in argv:
        raise SystemExit("usage: python -m mlepipe.gateway.forward --port P --socket S -- ARGV")
    cut = argv.index("--")
    parser = argparse.ArgumentParser(prog="mlepipe.gateway.forward")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--socket", required=True)
    args, agent = parser.parse_args(argv[:cut]), argv[cut + 1 :]
    if not agent:
        raise SystemExit("mlepipe.gateway.forward: no agent command after --")
    return args, agent


def _die_with_parent(parent: int) -> None:
    """The forwarder ends when the agent does (Linux prctl PR_SET_PDEATHSIG)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the agent ended before the signal was armed
        os._exit(0)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):  # the agent's output files are the agent's alone
        os.dup2(devnull, fd)


def _serve(listener: socket.socket, gateway: str) -> None:
    """One thread moves every connection's bytes (an event loop on a selector): a stream event
    costs a wake-up, a recv and a send, with no thread switch, and events of many streams ready at
    once are taken in one wake-up."""
    selector = selectors.DefaultSelector()
    listener.setblocking(False)
    selector.register(listener, selectors.EVENT_READ)
    while True:
        for key, mask in selector.select():
            if key.fileobj is listener:
                _accept(listener, selector, gateway)
            else:
                key.data.ready(mask)


def _accept(listener: socket.socket, selector: selectors.BaseSelector, gateway: str) -> None:
    while True:
        try:
            client, _ = listener.accept()
        except BlockingIOError:
            return
        except OSError:  # out of file descriptors: wait for connections to end, then go on
            time.sleep(0.05)
            return
        # Small writes (stream events) go out at once, not held back for the peer's delayed ACK.
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(gateway)  # a Unix socket: at once, or refused at once
        except OSError:
            upstream.close()
            client.setblocking(False)
            _GatewayDown(selector, client)
            continue
        client.setblocking(False)
        upstream.setblocking(False)
        _Link(selector, client, upstream)


class _Side:
    """One socket of a link: the bytes waiting to be sent to it, whether it has ended sending."""

    __slots__ = ("link", "sock", "peer", "waiting", "ended", "mask")

    def __init__(self, link: _Link, sock: socket.socket) -> None:
        self.link, self.sock = link, sock
        self.peer: _Side = self
        self.waiting = b""  # read from the peer, not yet sent here (the socket was full)
        self.ended = False  # EOF read from this socket
        self.mask = 0  # the events it is registered for

    def ready(self, mask: int) -> None:
        self.link.ready(self, mask)


class _Link:
    """An agent's connection and its connection to the gateway: bytes are copied both ways; when
    one side ends sending, the other's writing side is shut (a half-close passes through), and
    both are closed once both have ended. A side whose peer cannot take more is not read from
    until it can, so at most one read waits per direction."""

    def __init__(self, selector: selectors.BaseSelector, client: socket.socket,
                 upstream: socket.socket) -> None:  # fmt: skip
        self.selector, self.closed = selector, False
        self.sides = (_Side(self, client), _Side(self, upstream))
        self.sides[0].peer, self.sides[1].peer = self.sides[1], self.sides[0]
        self._update()

    def ready(self, side: _Side, mask: int) -> None:
        if self.closed:  # closed by the other side's event of the same wake-up
            return
        try:
            if mask & selectors.EVENT_WRITE:
                self._send(side)
            if mask & selectors.EVENT_READ and not side.ended and not side.peer.waiting:
                data = side.sock.recv(BUFFER)
                if data:
                    side.peer.waiting = data
                    self._send(side.peer)
                else:
                    side.ended = True
                    _shut(side.peer.sock)  # nothing waits for the peer: this side was read
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:  # reset, broken pipe: the connection is over both ways
            self._close()
            return
        if all(s.ended and not s.waiting for s in self.sides):
            self._close()
        else:
            self._update()

    def _send(self, side: _Side) -> None:
        """Sends what waits for ``side``; its writing side is shut once its peer has ended."""
        if side.waiting:
            sent = side.sock.send(side.waiting)
            side.waiting = side.waiting[sent:]
        if not side.waiting and side.peer.ended:
            _shut(side.sock)

    def _update(self) -> None:
        for side in self.sides:
            mask = 0
            if not side.ended and not side.peer.waiting:
                mask |= selectors.EVENT_READ
            if side.waiting:
                mask |= selectors.EVENT_WRITE
            if mask == side.mask:
                continue
            if not side.mask:
                self.selector.register(side.sock, mask, side)
            elif not mask:
                self.selector.unregister(side.sock)
            else:
                self.selector.modify(side.sock, mask, side)
            side.mask = mask

    def _close(self) -> None:
        self.closed = True
        for side in self.sides:
            if side.mask:
                self.selector.unregister(side.sock)
                side.mask = 0
            side.sock.close()


class _GatewayDown:
    """Answers a connection 502 once its request has come (the gateway cannot be reached)."""

    def __init__(self, selector: selectors.BaseSelector, client: socket.socket) -> None:
        self.selector, self.client = selector, client
        selector.register(client, selectors.EVENT_READ, self)

    def ready(self, mask: int) -> None:
        try:
            if self.client.recv(BUFFER):  # the request's head: answer only once it was sent
                self.client.send(GATEWAY_DOWN_ANSWER)  # a few hundred bytes: sent in one go
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self.selector.unregister(self.client)
        self.client.close()


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
