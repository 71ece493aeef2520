"""The attach process of runner ``container``: starts one run's container, copies its output
to stdout/stderr, and exits with its status. SIGTERM is passed on to the container; when the
harness dies (the guard pipe it holds closes) the container is removed.

Plain HTTP on the engine's socket (the Docker Engine API, which Podman serves too), standard
library only: run by path (``python -I container_attach.py ENGINE CONTAINER GUARD_FD``), it
starts in a fraction of the time the docker SDK takes to import.
"""

from __future__ import annotations

import ctypes
import http.client
import json
import os
import signal
import socket
import sys
import threading
import time


class _Engine:
    def __init__(self, engine: str) -> None:
        self.engine = engine

    def request(self, method: str, path: str, stream: bool = False):
        scheme, _, rest = self.engine.partition("://")
        if scheme == "unix":
            conn = _UnixConnection(rest)
        else:
            conn = http.client.HTTPConnection(rest.split("/", 1)[0])
        conn.request(method, path)
        response = conn.getresponse()
        if response.status >= 400:
            body = response.read(500).decode(errors="replace")
            raise OSError(f"{method} {path}: HTTP {response.status} {body}")
        return response if stream else json.loads(response.read() or b"null")


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost")
        self.socket_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.socket_path)


def attach(engine: str, container_id: str, guard_fd: int) -> int:
    """Start the container, copy its output to stdout/stderr, return its exit status. SIGTERM
    is passed on to it; when the harness dies (the guard pipe closes) it is removed."""
    api = _Engine(engine)
    base = f"/containers/{container_id}"
    # The harness's parent-death signal would kill this process before it can clean up.
    ctypes.CDLL(None).prctl(1, 0, 0, 0, 0)

    def on_harness_gone() -> None:
        while os.read(guard_fd, 1):
            pass
        try:
            api.request("DELETE", f"{base}?force=1")
        finally:
            os._exit(137)

    threading.Thread(target=on_harness_gone, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: api.request("POST", f"{base}/kill?signal=SIGTERM"))
    api.request("POST", f"{base}/start")
    logs = api.request("GET", f"{base}/logs?follow=1&stdout=1&stderr=1", stream=True)
    # Without a TTY the stream is multiplexed: an 8-byte header (stream, 0, 0, 0, size) per frame.
    while header := logs.read(8):
        if len(header) < 8:
            break
        size = int.from_bytes(header[4:8], "big")
        os.write(2 if header[0] == 2 else 1, logs.read(size))
    # The stream ends when the container does; the engine records its status a moment later.
    for _ in range(500):
        state = api.request("GET", f"{base}/json")["State"]
        if not state.get("Running"):
            return int(state.get("ExitCode") or 0)
        time.sleep(0.02)
    return int(api.request("POST", f"{base}/wait")["StatusCode"])


def main() -> None:
    engine, container_id, guard_fd = sys.argv[1:4]
    try:
        code = attach(engine, container_id, int(guard_fd))
    except Exception as exc:  # the engine refused: the run is recorded as failed to start
        print(f"mlepipe container: {type(exc).__name__}: {exc}", file=sys.stderr)
        code = 125
    sys.exit(code)


if __name__ == "__main__":
    main()
