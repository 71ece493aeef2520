"""The agent's launcher when it has a model gateway:

    python -I .../mlepipe/gateway/forward.py --port P --socket S -- AGENT ARGV...

It listens on 127.0.0.1:P (the sandbox's own loopback; P = 0 picks a free port, as on the host
under `sandbox: none`), sets OPENAI_BASE_URL and ANTHROPIC_BASE_URL to that address, starts a
forwarder process that passes each connection's bytes to the gateway's Unix socket S, and then
becomes the agent (exec): the agent keeps the process the harness started, so exit status, time
limit, signals and OOM detection are the agent's own. The forwarder is the agent's child and
dies with it (parent-death signal), so it never keeps a run alive.

Runs with the harness's interpreter (any Python >= 3.8), isolated from the agent's Python
settings: standard library only.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import socket
import sys
import threading

BUFFER = 1 << 16
GATEWAY_DOWN = json.dumps(
    {"error": {"message": "the model gateway is not reachable", "type": "gateway_unavailable"}}
).encode()


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
    while True:
        client, _ = listener.accept()
        threading.Thread(target=_connection, args=(client, gateway), daemon=True).start()


def _connection(client: socket.socket, gateway: str) -> None:
    # Small writes (stream events) go out at once, not held back for the peer's delayed ACK.
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(gateway)
    except OSError:
        _answer_gateway_down(client)
        upstream.close()
        return
    other = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
    other.start()
    _pump(client, upstream)
    other.join()
    client.close()
    upstream.close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copies bytes until ``source`` ends, then ends ``sink``'s writing side."""
    try:
        while True:
            data = source.recv(BUFFER)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    try:
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _answer_gateway_down(client: socket.socket) -> None:
    try:
        client.recv(BUFFER)  # the request's head: answer only once it was sent
        client.sendall(
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(GATEWAY_DOWN)}\r\nConnection: close\r\n\r\n".encode()
            + GATEWAY_DOWN
        )
    except OSError:
        pass
    client.close()


if __name__ == "__main__":
    sys.exit(main())
