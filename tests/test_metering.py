"""Metering: what a run used, checked against known workloads (a CPU burn, an allocation), and
the GPU sampler against a stand-in for NVML (no GPU exists here)."""

from __future__ import annotations

import shutil
import sys
import time
import types
from pathlib import Path

import pytest

from mlepipe.harness import cgroups, metering
from mlepipe.harness.runner import Limits, Mount
from mlepipe.harness.runners import get_runner

BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < {s}: pass\n"
ALLOCATE = (
    "b = bytearray({mb} * 2**20)\nb[::4096] = b'x' * len(b[::4096])\nimport time; time.sleep(0.5)\n"
)


def _memory_cgroup_works() -> bool:
    run = cgroups.create_run_cgroup(64, None, None)
    try:
        return run.memory_dir is not None
    finally:
        run.remove()


needs_memory_cgroup = pytest.mark.skipif(
    not _memory_cgroup_works(), reason="no writable memory cgroup here (needs root or delegation)"
)
runners = ["none"] + (["bubblewrap"] if shutil.which("bwrap") else [])
needs_bwrap = pytest.mark.skipif(not shutil.which("bwrap"), reason="bubblewrap is not installed")


def _run(tmp_path: Path, code: str, runner: str, memory_mb=None, wall_seconds=60, grace=5.0):
    (tmp_path / "out").mkdir(exist_ok=True)
    return get_runner(runner).run(
        [sys.executable if runner == "none" else "python", "-c", code],
        mounts=[Mount(tmp_path / "out", "/home/out", writable=True)],
        env={},
        limits=Limits(wall_seconds=wall_seconds, memory_mb=memory_mb, grace_seconds=grace),
        workdir=str(tmp_path / "out") if runner == "none" else "/home/out",
        stdout=tmp_path / "stdout",
        stderr=tmp_path / "stderr",
    )


def _run_ok(tmp_path: Path, code: str, runner: str, **limits):
    """``_run``, which must end with exit code 0."""
    result = _run(tmp_path, code, runner, **limits)
    assert result.exit_code == 0, (tmp_path / "stderr").read_text()
    return result


@pytest.mark.parametrize("runner", runners)
def test_cpu_seconds_of_a_known_burn(tmp_path, runner):
    result = _run_ok(tmp_path, BURN.format(s=1.5), runner)
    # 1.5 s of the burn's own CPU, plus the interpreter's start (and bubblewrap's), well under 1 s.
    assert 1.5 <= result.metering["cpu_seconds"] < 2.5
    assert result.metering["gpu_hours"] == 0.0 and result.metering["gpus"] == []


@needs_memory_cgroup
@pytest.mark.parametrize("memory_mb", [None, 2000])
def test_peak_memory_of_a_known_allocation_with_or_without_a_limit(tmp_path, memory_mb):
    result = _run_ok(tmp_path, ALLOCATE.format(mb=300), runners[-1], memory_mb=memory_mb)
    # 300 MB touched, plus the interpreter (about 10-40 MB) and page cache of what it read.
    assert 300 <= result.metering["peak_memory_mb"] < 300 + 200


# 50 MB written in two files, held for a few scans, then the 20 MB one deleted.
WRITE_THEN_DELETE = (
    "import os, time\n"
    "for name, mb in (('keep', 30), ('drop', 20)):\n"
    "    with open(name, 'wb') as f:\n"
    "        f.write(os.urandom(mb * 2**20)); f.flush(); os.fsync(f.fileno())\n"
    "time.sleep(3)\n"
    "os.remove('drop')\n"
)


@pytest.mark.parametrize("runner", runners)
def test_disk_use_of_a_known_write_then_delete(tmp_path, runner):
    result = _run_ok(tmp_path, WRITE_THEN_DELETE, runner)
    used = result.metering
    # Allocated blocks: the files' 50 MB (then 30 MB) and the folder's few kB of entries.
    assert 50 <= used["disk_used_peak_mb"] < 51
    assert 30 <= used["disk_used_end_mb"] < 31
    # Written: both files, the deleted one too; the interpreter itself writes nothing.
    assert 50 <= used["disk_written_mb"] < 50.5
    assert result.disk_peak_mb is None  # no quota: the quota's own figure stays unset


# 20 MB written without fsync and deleted at once: before any scan, likely before writeback.
WRITE_AND_DELETE_AT_ONCE = (
    "import os\n"
    "with open('brief', 'wb') as f:\n"
    "    f.write(os.urandom(20 * 2**20))\n"
    "os.remove('brief')\n"
)


@pytest.mark.parametrize("runner", runners)
def test_disk_written_counts_a_file_deleted_before_any_scan(tmp_path, runner):
    result = _run_ok(tmp_path, WRITE_AND_DELETE_AT_ONCE, runner)
    assert 20 <= result.metering["disk_written_mb"] < 20.5
    assert result.metering["disk_used_end_mb"] < 1


# A grandchild that outlives its parent (an orphan) writes 10 MB and ends before the agent.
ORPHAN_WRITES = (
    "import os, subprocess, time\n"
    "subprocess.run(['sh', '-c', '(head -c 10485760 /dev/urandom > orphan) &'], check=True)\n"
    "while not os.path.exists('orphan') or os.path.getsize('orphan') < 10485760:\n"
    "    time.sleep(0.05)\n"
    "time.sleep(0.5)\n"
)


@needs_bwrap
def test_the_guard_counts_the_writes_of_orphans(tmp_path):
    # Under runner none an orphan goes to the host's init, and its writes are missed.
    result = _run_ok(tmp_path, ORPHAN_WRITES, "bubblewrap")
    assert 10 <= result.metering["disk_written_mb"] < 10.5


# The agent writes 5 MB, then tries every descriptor of every other process of the sandbox
# (but what it holds itself, such as its stdout), to write a forged report to any it can open.
FORGE_REPORT = (
    "import os\n"
    "with open('real', 'wb') as f: f.write(os.urandom(5 * 2**20))\n"
    'forged = b\'{"bytes_written": 0, "cpu_seconds": 0}\\n\'\n'
    "own = {os.readlink(f'/proc/self/fd/{fd}') for fd in (0, 1, 2)}\n"
    "opened = []\n"
    "for pid in [p for p in os.listdir('/proc') if p.isdigit() and int(p) != os.getpid()]:\n"
    "    try: fds = os.listdir(f'/proc/{pid}/fd')\n"
    "    except OSError: continue\n"
    "    for fd in fds:\n"
    "        try: target = os.readlink(f'/proc/{pid}/fd/{fd}')\n"
    "        except OSError: continue\n"
    "        if target in own: continue\n"
    "        try: w = os.open(f'/proc/{pid}/fd/{fd}', os.O_WRONLY | os.O_NONBLOCK)\n"
    "        except OSError: continue\n"
    "        try: os.write(w, forged); opened.append(f'{pid}/{fd}')\n"
    "        except OSError: pass\n"
    "print('opened', opened)\n"
)


@needs_bwrap
def test_an_agent_cannot_forge_the_guards_report(tmp_path):
    result = _run_ok(tmp_path, FORGE_REPORT, "bubblewrap")
    assert "opened []" in (tmp_path / "stdout").read_text()
    assert 5 <= result.metering["disk_written_mb"] < 5.5


@needs_bwrap
def test_without_a_report_from_the_guard_disk_written_is_null_with_a_note(tmp_path):
    # The agent shrugs off SIGTERM, so the guard dies in the SIGKILL after the grace.
    code = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(60)\n"
    result = _run(tmp_path, code, "bubblewrap", wall_seconds=2, grace=0.5)
    assert result.timed_out
    assert result.metering["disk_written_mb"] is None
    assert any("guard was killed before it could report" in n for n in result.notes)


@needs_bwrap
def test_without_a_cgroup_cpu_seconds_come_from_the_guard(tmp_path, monkeypatch):
    # As on a machine where no cgroup can be made: bubblewrap's CPU time is then the guard's.
    monkeypatch.setattr(cgroups, "create_run_cgroup", lambda *a: cgroups.RunCgroup())
    result = _run_ok(tmp_path, BURN.format(s=1.5), "bubblewrap")
    assert 1.5 <= result.metering["cpu_seconds"] < 2.5
    assert result.metering["peak_memory_mb"] is None


class StandInNvml(types.ModuleType):
    """A stand-in for pynvml (nvidia-ml-py): two GPUs at fixed utilisation and memory use."""

    def __init__(self) -> None:
        super().__init__("pynvml")
        self.util = {0: 40, 1: 80}
        self.used = {0: 1000 * 2**20, 1: 3000 * 2**20}
        self.shut = False

    def nvmlInit(self):
        pass

    def nvmlShutdown(self):
        self.shut = True

    def nvmlDeviceGetHandleByIndex(self, i):
        if i not in self.util:
            raise RuntimeError(f"no GPU {i}")
        return i

    def nvmlDeviceGetHandleByUUID(self, uuid):
        return {"GPU-aaa": 0, "GPU-bbb": 1}[uuid]

    def nvmlDeviceGetUtilizationRates(self, h):
        return types.SimpleNamespace(gpu=self.util[h])

    def nvmlDeviceGetMemoryInfo(self, h):
        return types.SimpleNamespace(used=self.used[h])


def test_gpu_sampler_with_a_stand_in_nvml(monkeypatch):
    nvml = StandInNvml()
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    sampler = metering.GpuSampler(("0", "GPU-bbb"), interval=0.05).start()
    time.sleep(0.3)
    nvml.util[0] = 60  # utilisation changes half-way
    time.sleep(0.3)
    sampler.stop()
    fields = sampler.fields(wall_seconds=1800)
    assert fields["gpu_hours"] == 1.0  # half an hour on two GPUs
    first, second = fields["gpus"]
    assert first["gpu"] == "0" and 40 < first["mean_utilization_pct"] < 60
    assert second["mean_utilization_pct"] == 80 and second["peak_memory_mb"] == 3000
    assert first["samples"] >= 5 and nvml.shut


def test_without_nvml_gpu_use_is_null_with_a_note(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import fails
    sampler = metering.GpuSampler(("0",)).start()
    sampler.stop()
    fields = sampler.fields(wall_seconds=3600)
    assert fields["gpus"][0]["mean_utilization_pct"] is None and fields["gpu_hours"] == 1.0
    assert "NVML unavailable" in sampler.note
