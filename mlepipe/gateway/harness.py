"""One run's model gateway as the harness sees it: started before the agent, watched while it
runs, stopped after it, its usage and log collected.

The gateway (``server``) is a host process listening on a Unix socket in a private folder of
its own (0700, outside every mount the agent can write). The socket alone is bound into the
sandbox at ``GATEWAY_SOCKET``; the agent's command is wrapped in the launcher (``forward``),
which serves 127.0.0.1:``SANDBOX_PORT`` inside the sandbox. Under ``sandbox: none`` the same
launcher runs on the host and takes a free port of the host's 127.0.0.1. The agent is given a
per-run random token as its API key; the real key stays in the gateway's environment.

Should the gateway die while the agent runs, the run is stopped (``stop`` is set) and
``usage.gateway_error`` says so. After the run the exchange log is copied into the run's logs/
(the agent has ended by then; what it left under those names is removed first).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from mlepipe.gateway.metering import load_prices
from mlepipe.harness.runner import Mount, SandboxUnavailable, _pdeathsig_setter
from mlepipe.schemas import ConfigError

GATEWAY_SOCKET = "/run/mlepipe/gateway.sock"
SANDBOX_PORT = 8787
LOG_FILES = ("gateway.jsonl", "gateway-bodies.jsonl.gz", "gateway.stderr")
START_SECONDS = 30.0
STOP_SECONDS = 10.0


class GatewaySetupError(SandboxUnavailable):
    """The gateway an agent asks for cannot be set up here (its key or prices are missing): a
    setup error like a missing sandbox, so the harness stops instead of recording a run."""


class NoGateway:
    """What an agent without a gateway gets: nothing added to its run."""

    mounts: tuple[Mount, ...] = ()
    env: dict[str, str] = {}
    stop: threading.Event | None = None
    usage: dict[str, Any] | None = None

    def command(self, argv: list[str], launcher: list[str]) -> list[str]:
        return list(argv)

    def __enter__(self) -> NoGateway:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class ModelGateway:
    """The gateway of one run (a context manager): ``mounts``, ``env`` and ``command`` go into
    the run, ``stop`` is set when the gateway fails, ``usage`` is the record once it has ended."""

    def __init__(
        self, spec: dict[str, Any], prices: dict[str, dict], logs_dir: Path, on_host: bool
    ) -> None:
        key_env = spec.get("key_env")
        if key_env and not os.environ.get(key_env):
            raise GatewaySetupError(
                f"the agent's gateway takes its API key from the host variable {key_env}, "
                "which is not set: export it before running (its value never enters the sandbox)"
            )
        budget = spec.get("budget") or {}
        unpriced = [m for m in spec["models"] if m not in prices]
        if "cost_usd" in budget and unpriced:
            raise GatewaySetupError(
                f"the gateway's cost_usd budget needs a price for every allowed model; the prices "
                f"file has none for {', '.join(unpriced)}"
            )
        self.spec, self.logs_dir, self.on_host = spec, Path(logs_dir), on_host
        self.prices = {m: prices[m] for m in spec["models"] if m in prices}
        self.token = secrets.token_urlsafe(32)
        self.stop = threading.Event()
        self.usage: dict[str, Any] | None = None
        self.failure: str | None = None
        self._ending = False
        self._dir: Path | None = None
        self._proc: subprocess.Popen | None = None
        self._watcher: threading.Thread | None = None

    # --- what the run is given -----------------------------------------------------------------

    @property
    def mounts(self) -> tuple[Mount, ...]:
        assert self._dir is not None, "the gateway has not been started"
        return (Mount(self._dir / "gateway.sock", GATEWAY_SOCKET),)

    @property
    def env(self) -> dict[str, str]:
        return {
            "OPENAI_API_KEY": self.token,
            "ANTHROPIC_API_KEY": self.token,
            "GATEWAY_MODELS": ",".join(self.spec["models"]),
        }

    def command(self, argv: list[str], launcher: list[str]) -> list[str]:
        """``argv`` started by the launcher (``launcher``: the command line that runs
        ``forward``, with an interpreter the sandbox has)."""
        port = 0 if self.on_host else SANDBOX_PORT
        return [*launcher, "--port", str(port), "--socket", GATEWAY_SOCKET, "--", *argv]

    # --- start, watch, stop ----------------------------------------------------------------------

    def __enter__(self) -> ModelGateway:
        self._dir = Path(tempfile.mkdtemp(prefix="mlepipe-gateway-"))  # mode 0700
        try:
            self._start()
        except BaseException:
            self._end()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._end()

    def _start(self) -> None:
        assert self._dir is not None
        folder = self._dir
        config = {
            "socket": str(folder / "gateway.sock"), "token": self.token,
            "upstream": self.spec["upstream"],
            "anthropic_upstream": self.spec.get("anthropic_upstream"),
            "key_env": self.spec.get("key_env"), "models": self.spec["models"],
            "budget": self.spec.get("budget") or {}, "prices": self.prices,
            "timeout_seconds": self.spec.get("timeout_seconds", 600),
            "log": str(folder / LOG_FILES[0]),
            "bodies": str(folder / LOG_FILES[1]) if self.spec.get("log_bodies", True) else None,
            "usage": str(folder / "usage.json"),
        }  # fmt: skip
        config_path = folder / "config.json"
        fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(config, f)
        package_root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (package_root, os.environ.get("PYTHONPATH")) if p
        )}  # fmt: skip
        with open(folder / LOG_FILES[2], "wb") as err:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "mlepipe.gateway.server", str(config_path)],
                stdin=subprocess.DEVNULL, stdout=err, stderr=err, env=env,
                start_new_session=True, preexec_fn=_pdeathsig_setter(),  # dies with the harness
            )  # fmt: skip
        self._wait_until_serving(Path(config["socket"]))
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._watcher.start()

    def _wait_until_serving(self, path: Path) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"the model gateway did not start: {self._stderr_tail()}")
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                try:
                    probe.connect(str(path))
                    return
                except OSError:
                    time.sleep(0.02)
        raise RuntimeError(f"the model gateway did not listen within {START_SECONDS:g} s")

    def _watch(self) -> None:
        assert self._proc is not None
        code = self._proc.wait()
        if not self._ending:
            how = f"signal {-code}" if code < 0 else f"exit status {code}"
            self.failure = f"the model gateway ended ({how}) while the agent ran; run stopped"
            self.stop.set()

    def _end(self) -> None:
        self._ending = True
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            if self._watcher is not None:
                self._watcher.join()
        if self._dir is None:
            return
        try:
            if self._proc is not None:
                self.usage = self._read_usage()
                self._copy_logs()
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    # --- results ---------------------------------------------------------------------------------

    def _read_usage(self) -> dict[str, Any]:
        """The last usage the gateway saved (its private file), and how the gateway ended."""
        assert self._dir is not None
        try:
            usage = json.loads((self._dir / "usage.json").read_text())
        except (OSError, ValueError):
            usage = {"requests": None, "prompt_tokens": None, "completion_tokens": None,
                     "cost_usd": None}  # fmt: skip
            self.failure = self.failure or "the model gateway left no usage record"
        usage["gateway_error"] = self.failure
        return usage

    def _stderr_tail(self) -> str:
        assert self._dir is not None
        try:
            lines = (self._dir / LOG_FILES[2]).read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no error output"
        return lines[-1] if lines else "no error output"

    def _copy_logs(self) -> None:
        """Copies the gateway's files into logs/, an agent-writable folder: no link is followed,
        and whatever the agent left under these names is removed first."""
        assert self._dir is not None
        try:
            logs = os.open(self.logs_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            return
        try:
            for name in LOG_FILES:
                source = self._dir / name
                if not source.is_file() or (name == LOG_FILES[2] and not source.stat().st_size):
                    continue
                _remove_entry(logs, name)
                fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644,
                             dir_fd=logs)  # fmt: skip
                with os.fdopen(fd, "wb") as out, open(source, "rb") as f:
                    shutil.copyfileobj(f, out)
        finally:
            os.close(logs)


def _remove_entry(dir_fd: int, name: str) -> None:
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(name, dir_fd=dir_fd)
    else:
        os.unlink(name, dir_fd=dir_fd)


def model_gateway(
    spec: dict[str, Any] | None, prices_file: Path | None, logs_dir: Path, on_host: bool
) -> ModelGateway | NoGateway:
    """The gateway for an agent's ``gateway:`` settings (none without them)."""
    if not spec:
        return NoGateway()
    try:
        prices = load_prices(prices_file) if prices_file else {}
    except ConfigError as exc:
        raise GatewaySetupError(str(exc)) from None
    return ModelGateway(spec, prices, logs_dir, on_host)
