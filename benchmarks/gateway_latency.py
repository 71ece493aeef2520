"""What the model gateway costs per request: latency added (p50, p99 over N plain chat
completions, one keep-alive connection) and throughput of 1, 8 and 32 concurrent streamed
completions, each against calling the model stand-in (tests/model_standin.py) directly.

The gateway path is the one an agent uses: the launcher's forwarder on 127.0.0.1 (run on the
host, as under `sandbox: none`; inside bubblewrap the same code runs on the sandbox's loopback),
the Unix socket, the gateway process, then the stand-in. Streams are measured twice: paced like
a model producing tokens (--chunk-delay seconds between events) and unpaced (CPU-bound).

Paced streams are measured in --repeat rounds, each round every path in turn, and reported as
medians (a shared machine's load comes and goes). At 32 paced streams two more paths each skip
one hop, to tell the hops' shares apart: "forwarder only" (the forwarder straight to the
stand-in's Unix socket) and "gateway only" (the client on the gateway's Unix socket); and the
CPU time each process spends per streamed completion is given (from /proc), a figure that
load does not inflate as much as it does elapsed times.

    python benchmarks/gateway_latency.py [--requests 500] [--streams-per-client 20] [--repeat 5]
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
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mlepipe.gateway.harness import ModelGateway  # noqa: E402

MODEL = "standin-1"
Connect = Callable[[], http.client.HTTPConnection]
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


def start_standin(chunk_delay: float, unix_socket: Path) -> tuple[subprocess.Popen, int]:
    """The stand-in on a free TCP port and on ``unix_socket`` (for the forwarder alone)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "model_standin.py"), "--port", str(port),
         "--chunk-delay", str(chunk_delay), "--socket", str(unix_socket)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for_port(port)
    return proc, port


def start_forwarder(socket_path: Path) -> tuple[subprocess.Popen, int, int]:
    """The launcher with a stand-in agent that prints its base URL and waits: the launcher's
    process, the port and the forwarder's pid (the agent's child)."""
    proc = subprocess.Popen(
        [sys.executable, "-I", str(REPO / "mlepipe" / "gateway" / "forward.py"), "--port", "0",
         "--socket", str(socket_path), "--", "sh", "-c",
         'echo "$OPENAI_BASE_URL"; exec sleep 100000'],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = proc.stdout.readline().strip()
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    return proc, int(url.rsplit(":", 1)[1].split("/")[0]), int(children[0])


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP on a Unix socket: a client straight on the gateway's socket."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


def tcp(port: int) -> Connect:
    return lambda: http.client.HTTPConnection("127.0.0.1", port, timeout=120)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


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
    conn = tcp(port)()
    for _ in range(20):  # warm-up
        request(conn, token, stream=False)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        request(conn, token, stream=False)
        times.append((time.perf_counter() - started) * 1000)
    conn.close()
    return times


def throughput(connect: Connect, token: str, clients: int, per_client: int) -> float:
    """Streamed completions per second with ``clients`` streams at once."""

    def client() -> None:
        conn = connect()
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
    folder = Path(tempfile.mkdtemp(prefix="gateway-bench-"))
    standin, port = start_standin(chunk_delay, folder / "standin.sock")
    spec = {"upstream": f"http://127.0.0.1:{port}/v1", "models": [MODEL], "log_bodies": True}
    try:
        with ModelGateway(spec, {}, folder, on_host=True) as gateway:
            gateway_socket = gateway._dir / "gateway.sock"
            forwarder, fport, forwarder_pid = start_forwarder(gateway_socket)
            alone, alone_port, _ = start_forwarder(folder / "standin.sock")
            try:
                if latency:
                    direct = latencies(port, "unused", args.requests)
                    via = latencies(fport, gateway.token, args.requests)
                    print(f"plain chat completion latency over {args.requests} requests (ms):")
                    for q in (50, 99):
                        d, g = percentile(direct, q), percentile(via, q)
                        print(f"  p{q}: direct {d:.2f}, via gateway {g:.2f}, added {g - d:.2f} "
                              f"({g / d:.2f}x)")  # fmt: skip
                paths: dict[str, tuple[Connect, str]] = {
                    "direct": (tcp(port), "unused"),
                    "via gateway": (tcp(fport), gateway.token),
                }
                hops = {
                    "forwarder only": (tcp(alone_port), "unused"),
                    "gateway only": (
                        lambda: UnixHTTPConnection(str(gateway_socket), timeout=120),
                        gateway.token,
                    ),
                }
                pids = {"forwarder": forwarder_pid, "gateway": gateway._proc.pid,
                        "stand-in": standin.pid}  # fmt: skip
                if chunk_delay:
                    paced(args, paths, hops, pids, chunk_delay)
                else:
                    print("streamed completions per second (unpaced):")
                    for clients in (1, 8, 32):
                        d, g = (throughput(c, t, clients, args.streams_per_client)
                                for c, t in paths.values())  # fmt: skip
                        print(f"  {clients:>2} streams: direct {d:.1f}/s, via gateway {g:.1f}/s "
                              f"({g / d:.2f}x)")  # fmt: skip
            finally:
                for launcher in (forwarder, alone):
                    launcher.kill()
                    launcher.wait()
        usage = gateway.usage
        print(f"  (gateway counted {usage['requests']} requests, {usage['prompt_tokens']} "
              "prompt tokens)")  # fmt: skip
    finally:
        standin.kill()
        standin.wait()


def paced(
    args: argparse.Namespace,
    paths: dict[str, tuple[Connect, str]],
    hops: dict[str, tuple[Connect, str]],
    pids: dict[str, int],
    chunk_delay: float,
) -> None:
    """Paced streams, --repeat rounds of every path in turn; medians, and each round's ratio."""
    per_client = args.streams_per_client
    print(f"streamed completions per second (paced, {chunk_delay * 1000:g} ms between events), "
          f"median of {args.repeat} rounds:")  # fmt: skip
    for clients in (1, 8, 32):
        chosen = {**paths, **hops} if clients == 32 else paths
        rates: dict[str, list[float]] = {name: [] for name in chosen}
        cpu = {name: 0.0 for name in pids}
        for _ in range(args.repeat):
            for name, (connect, token) in chosen.items():
                before = {p: cpu_seconds(pid) for p, pid in pids.items()}
                rates[name].append(throughput(connect, token, clients, per_client))
                if name == "via gateway":
                    for p, pid in pids.items():
                        cpu[p] += cpu_seconds(pid) - before[p]
        d = statistics.median(rates["direct"])
        figures = ", ".join(
            f"{name} {statistics.median(r):.1f}/s" + ("" if name == "direct" else
                                                       f" ({statistics.median(r) / d:.2f}x)")
            for name, r in rates.items()
        )  # fmt: skip
        print(f"  {clients:>2} streams: {figures}")
        rounds = [g / d for g, d in zip(rates["via gateway"], rates["direct"], strict=True)]
        print(f"     via gateway / direct, round by round: {' '.join(f'{r:.2f}' for r in rounds)}")
        if clients == 32:
            n = args.repeat * clients * per_client
            shares = ", ".join(f"{p} {seconds * 1000 / n:.2f}" for p, seconds in cpu.items())
            print(f"     CPU ms per completion via gateway: {shares}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--streams-per-client", type=int, default=20)
    parser.add_argument("--chunk-delay", type=float, default=0.02)
    parser.add_argument("--repeat", type=int, default=5, help="rounds of paced streams")
    args = parser.parse_args()
    print(f"host: {os.cpu_count()} CPUs, load average {load_average()}")
    measure(0.0, args, latency=True)
    measure(args.chunk_delay, args, latency=False)
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
