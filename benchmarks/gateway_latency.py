"""What the model gateway costs per request: latency added (p50, p99 over N plain chat
completions, one keep-alive connection) and throughput of 1, 8 and 32 concurrent streamed
completions, each against calling the model stand-in (tests/model_standin.py) directly.

The gateway path is the one an agent uses: the launcher's forwarder on 127.0.0.1 (run on the
host, as under `sandbox: none`; inside bubblewrap the same code runs on the sandbox's loopback),
the Unix socket, the gateway process, then the stand-in. Streams are measured twice: paced like
a model producing tokens (--chunk-delay seconds between events) and unpaced (CPU-bound).

    python benchmarks/gateway_latency.py [--requests 500] [--streams-per-client 20]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mlepipe.gateway.harness import ModelGateway  # noqa: E402

MODEL = "standin-1"
BODY = {"model": MODEL, "messages": [{"role": "user", "content": "hello"}]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def start_standin(chunk_delay: float) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "model_standin.py"), "--port", str(port),
         "--chunk-delay", str(chunk_delay)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for_port(port)
    return proc, port


def start_forwarder(socket_path: Path) -> tuple[subprocess.Popen, int]:
    """The launcher with a stand-in agent that prints its base URL and waits."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlepipe.gateway.forward", "--port", "0", "--socket",
         str(socket_path), "--", "sh", "-c", 'echo "$OPENAI_BASE_URL"; exec sleep 100000'],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    url = proc.stdout.readline().strip()
    return proc, int(url.rsplit(":", 1)[1].split("/")[0])


def request(conn: http.client.HTTPConnection, token: str, stream: bool) -> int:
    # Streams ask for the usage chunk on both paths (the gateway would add it), so that both
    # get the same events.
    extra = {"stream": True, "stream_options": {"include_usage": True}} if stream else {}
    body = json.dumps({**BODY, **extra}).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.request("POST", "/v1/chat/completions", body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    assert response.status == 200, data[:200]
    return len(data)


def latencies(port: int, token: str, n: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(20):  # warm-up
        request(conn, token, stream=False)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        request(conn, token, stream=False)
        times.append((time.perf_counter() - started) * 1000)
    conn.close()
    return times


def throughput(port: int, token: str, clients: int, per_client: int) -> float:
    """Streamed completions per second with ``clients`` streams at once."""

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for _ in range(per_client):
            request(conn, token, stream=True)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return clients * per_client / (time.perf_counter() - started)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def measure(chunk_delay: float, args: argparse.Namespace, latency: bool) -> None:
    standin, port = start_standin(chunk_delay)
    spec = {"upstream": f"http://127.0.0.1:{port}/v1", "models": [MODEL], "log_bodies": True}
    logs = Path(tempfile.mkdtemp(prefix="gateway-bench-"))
    try:
        with ModelGateway(spec, {}, logs, on_host=True) as gateway:
            forwarder, fport = start_forwarder(gateway._dir / "gateway.sock")
            try:
                if latency:
                    direct = latencies(port, "unused", args.requests)
                    via = latencies(fport, gateway.token, args.requests)
                    print(f"plain chat completion latency over {args.requests} requests (ms):")
                    for q in (50, 99):
                        d, g = percentile(direct, q), percentile(via, q)
                        print(f"  p{q}: direct {d:.2f}, via gateway {g:.2f}, added {g - d:.2f} "
                              f"({g / d:.2f}x)")  # fmt: skip
                paced = f"paced, {chunk_delay * 1000:g} ms between events" if chunk_delay else (
                    "unpaced")  # fmt: skip
                print(f"streamed completions per second ({paced}):")
                for clients in (1, 8, 32):
                    d = throughput(port, "unused", clients, args.streams_per_client)
                    g = throughput(fport, gateway.token, clients, args.streams_per_client)
                    print(f"  {clients:>2} streams: direct {d:.1f}/s, via gateway {g:.1f}/s "
                          f"({g / d:.2f}x)")  # fmt: skip
            finally:
                forwarder.kill()
                forwarder.wait()
        usage = gateway.usage
        print(f"  (gateway counted {usage['requests']} requests, {usage['prompt_tokens']} "
              "prompt tokens)")  # fmt: skip
    finally:
        standin.kill()
        standin.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--streams-per-client", type=int, default=20)
    parser.add_argument("--chunk-delay", type=float, default=0.02)
    args = parser.parse_args()
    print(f"host: {os.cpu_count()} CPUs")
    measure(0.0, args, latency=True)
    measure(args.chunk_delay, args, latency=False)


if __name__ == "__main__":
    main()
