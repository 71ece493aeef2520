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


def _run(tmp_path: Path, code: str, runner: str, memory_mb=None):
    (tmp_path / "out").mkdir(exist_ok=True)
    return get_runner(runner).run(
        [sys.executable if runner == "none" else "python", "-c", code],
        mounts=[Mount(tmp_path / "out", "/home/out", writable=True)],
        env={},
        limits=Limits(wall_seconds=60, memory_mb=memory_mb),
        workdir=str(tmp_path / "out") if runner == "none" else "/home/out",
        stdout=tmp_path / "stdout",
        stderr=tmp_path / "stderr",
    )


@pytest.mark.parametrize("runner", runners)
def test_cpu_seconds_of_a_known_burn(tmp_path, runner):
    result = _run(tmp_path, BURN.format(s=1.5), runner)
    assert result.exit_code == 0, (tmp_path / "stderr").read_text()
    # 1.5 s of the burn's own CPU, plus the interpreter's start (and bubblewrap's), well under 1 s.
    assert 1.5 <= result.metering["cpu_seconds"] < 2.5
    assert result.metering["gpu_hours"] == 0.0 and result.metering["gpus"] == []


@needs_memory_cgroup
@pytest.mark.parametrize("memory_mb", [None, 2000])
def test_peak_memory_of_a_known_allocation_with_or_without_a_limit(tmp_path, memory_mb):
    result = _run(tmp_path, ALLOCATE.format(mb=300), runners[-1], memory_mb=memory_mb)
    assert result.exit_code == 0, (tmp_path / "stderr").read_text()
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
    result = _run(tmp_path, WRITE_THEN_DELETE, runner)
    assert result.exit_code == 0, (tmp_path / "stderr").read_text()
    used = result.metering
    # Allocated blocks: the files' 50 MB (then 30 MB) and the folder's few kB of entries.
    assert 50 <= used["disk_used_peak_mb"] < 51
    assert 30 <= used["disk_used_end_mb"] < 31
    assert result.disk_peak_mb is None  # no quota: the quota's own figure stays unset


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
