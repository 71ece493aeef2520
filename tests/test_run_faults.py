"""The harness under faults, with real `mlepipe run-agent` processes in the bubblewrap sandbox: a
signal stops the agent and leaves a cancelled run.json; a run directory's lock holds across
hosts (a lock file naming its holder, not flock) and a stale one is broken."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from mlepipe.harness.lock import LockTimeout, run_dir_lock

pytestmark = [pytest.mark.sandbox]

if not shutil.which("bwrap"):
    pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)", allow_module_level=True)

REPO = Path(__file__).resolve().parents[1]
TOKEN = f"mlepipe-test-{uuid.uuid4().hex[:12]}"  # names this module's agent processes
AGENTS = {
    # Says that it started (a file in /home/logs), then sleeps for the seconds it is given.
    "sleeper": {"kind": "command", "command": (
        "python -c \"import pathlib, sys, time; pathlib.Path('/home/logs/started').touch(); "
        f"time.sleep(600)\" {TOKEN}"
    )},
    "brief": {"kind": "command", "command": (
        "python -c \"import pathlib, time; pathlib.Path('/home/logs/started').touch(); "
        f"time.sleep(20)\" {TOKEN}"
    )},
    "dummy": {"kind": "builtin"},
}  # fmt: skip
HARDWARE = {"cpu-1": {"cpus": 1, "memory_gb": 1, "time_limit": "2m"}}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("run-faults")
    (root / "agents.yaml").write_text(yaml.safe_dump(AGENTS))
    (root / "hardware.yaml").write_text(yaml.safe_dump(HARDWARE))
    return root


def start(setup: Path, data: Path, run_dir: Path, agent: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mlepipe", "run-agent", "--agent", agent, "--hardware", "cpu-1",
         "--competition", "practice-wine", "--seed", "0", "--data-dir", str(data),
         "--run-dir", str(run_dir), "--agents-file", str(setup / "agents.yaml"),
         "--hardware-file", str(setup / "hardware.yaml")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
    )  # fmt: skip


def wait_for(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear within {timeout} s"
        time.sleep(0.1)


def agent_processes() -> list[int]:
    """Processes of this module's agents still alive (their command line holds TOKEN)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and TOKEN.encode() in (proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
        except OSError:
            pass
    return pids


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_agent_and_records_a_cancelled_run(setup, practice_data, tmp_path, sig):
    run_dir = tmp_path / "run"
    proc = start(setup, practice_data, run_dir, "sleeper")
    wait_for(run_dir / "logs" / "started", timeout=60)
    assert agent_processes()
    signalled = time.monotonic()
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=30)
    # Within Slurm's KillWait (30 s by default; 2 s on the test cluster).
    assert time.monotonic() - signalled < 2, stderr
    assert proc.returncode == 128 + sig, stderr
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "cancelled" and run["cancelled_by"] == sig.name, run
    assert not run["submission"]["accepted"] and "cancelled" in run["submission"]["rejected_reason"]
    assert run["end"] and run["wall_seconds"] > 0
    assert agent_processes() == []  # the agent did not outlive the harness


def test_a_new_attempt_removes_the_grade_of_the_earlier_one(setup, practice_data, tmp_path):
    run_dir, grade = tmp_path / "run", tmp_path / "grades" / "0.json"
    grade.parent.mkdir()
    grade.write_text(json.dumps({"score": 1.0}))
    proc = subprocess.run(
        [sys.executable, "-m", "mlepipe", "run-agent", "--agent", "dummy", "--hardware", "cpu-1",
         "--competition", "practice-wine", "--seed", "0", "--data-dir", str(practice_data),
         "--run-dir", str(run_dir), "--agents-file", str(setup / "agents.yaml"),
         "--hardware-file", str(setup / "hardware.yaml"), "--grade-file", str(grade)],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads((run_dir / "run.json").read_text())["status"] == "ok"
    assert not grade.exists()


def lock_file(run_dir: Path) -> Path:
    return run_dir.parent / f".{run_dir.name}.lock"


def test_a_lock_held_on_another_node_is_waited_for(setup, practice_data, tmp_path):
    """flock cannot see a holder on another node of an NFS; the lock file names it. The run
    starts only once that holder has released the lock."""
    run_dir = tmp_path / "run"
    lock = lock_file(run_dir)
    holder = {"host": "node-elsewhere", "pid": 4242, "process_start": "1",
              "slurm_job_id": None, "since": "2026-01-01T00:00:00+00:00"}  # fmt: skip
    lock.write_text(json.dumps(holder))
    proc = start(setup, practice_data, run_dir, "dummy")
    # The harness has reached the lock once its own candidate lock file (or the run) appears.
    deadline = time.monotonic() + 60
    while not (run_dir.exists() or list(tmp_path.glob(".run.lock.*"))):
        assert time.monotonic() < deadline and proc.poll() is None, "the harness did not start"
        time.sleep(0.1)
    time.sleep(3)
    assert proc.poll() is None and not run_dir.exists(), "the run started despite the lock"
    lock.unlink()  # the holder on the other node is done
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "waiting for the lock held by node-elsewhere pid 4242" in stderr
    assert json.loads((run_dir / "run.json").read_text())["status"] == "ok"
    assert not lock.exists()


def test_two_writers_of_one_run_dir_on_two_hosts_take_turns(setup, practice_data, tmp_path):
    run_dir = tmp_path / "run"
    first = start(setup, practice_data, run_dir, "brief", MLEPIPE_HOSTNAME="node-b")
    wait_for(run_dir / "logs" / "started", timeout=60)
    assert json.loads(lock_file(run_dir).read_text())["host"] == "node-b"
    second = start(setup, practice_data, run_dir, "dummy")
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(f".run.lock.{os.uname().nodename}.*")):
        assert time.monotonic() < deadline, "the second writer did not reach the lock"
        time.sleep(0.1)
    assert first.poll() is None, "the first writer ended before the second came: no overlap"
    _, first_err = first.communicate(timeout=120)
    first_done = time.time()
    _, second_err = second.communicate(timeout=120)
    assert first.returncode == 0 and second.returncode == 0, (first_err, second_err)
    assert "waiting for the lock held by node-b" in second_err
    run = json.loads((run_dir / "run.json").read_text())
    assert run["agent"] == "dummy" and run["status"] == "ok"
    # The second run began (its run directory made anew) only after the first had ended.
    started = datetime.fromisoformat(run["start"]).timestamp()
    assert started >= first_done - 1.5, (run["start"], first_done)
    assert not lock_file(run_dir).exists()


def test_a_stale_lock_of_an_ended_process_is_broken_with_a_message(setup, practice_data, tmp_path):
    run_dir = tmp_path / "run"
    gone = subprocess.Popen(["true"])
    gone.wait()
    holder = {"host": os.uname().nodename, "pid": gone.pid, "process_start": "1",
              "slurm_job_id": None, "since": "2026-01-01T00:00:00+00:00"}  # fmt: skip
    lock_file(run_dir).write_text(json.dumps(holder))
    proc = start(setup, practice_data, run_dir, "dummy")
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "breaking a stale lock" in stderr and f"process {gone.pid}" in stderr, stderr
    assert "has ended" in stderr
    assert json.loads((run_dir / "run.json").read_text())["status"] == "ok"


def test_waiting_for_a_live_lock_is_bounded(tmp_path):
    run_dir = tmp_path / "run"
    holder = {"host": "node-elsewhere", "pid": 1, "slurm_job_id": None, "since": "earlier"}
    lock_file(run_dir).write_text(json.dumps(holder))
    with pytest.raises(LockTimeout, match=r"still locked by node-elsewhere pid 1.*remove"):
        with run_dir_lock(run_dir, max_wait_seconds=1, poll_seconds=0.2):
            pass
    assert json.loads(lock_file(run_dir).read_text()) == holder  # a live lock is never broken
