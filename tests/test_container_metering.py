"""Metering of runs in containers (a real Podman engine): the engine starts the container under
a cgroup of the run's, which counts its CPU time and peak memory; checked against known
workloads, and nothing the engine made there is left behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from podman_engine import BASE_IMAGE

from mlepipe.harness import cgroups
from mlepipe.harness.container import ContainerRunner
from mlepipe.harness.runner import Limits, Mount

pytestmark = pytest.mark.sandbox

# CPU time of its own, not wall time: the burn takes as long as a shared host needs for it.
BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < {s}: pass\n"
ALLOCATE = (
    "b = bytearray({mb} * 2**20)\nb[::4096] = b'x' * len(b[::4096])\nimport time; time.sleep(0.3)\n"
)


def _run(engine, tmp_path: Path, code: str, limits: Limits) -> tuple:
    (tmp_path / "out").mkdir(exist_ok=True)
    runner = ContainerRunner(engine=engine.url, image=BASE_IMAGE, run_label="metering")
    result = runner.run(
        ["python3", "-c", code],
        mounts=[Mount(tmp_path / "out", "/home/out", writable=True)],
        env={}, limits=limits, workdir="/home/out",
        stdout=tmp_path / "stdout", stderr=tmp_path / "stderr",
    )  # fmt: skip
    assert result.exit_code == 0, (tmp_path / "stderr").read_text()
    return runner, result


def _left_behind(nested: str) -> list[Path]:
    return [
        m / nested.lstrip("/") for m in cgroups._hierarchies() if (m / nested.lstrip("/")).exists()
    ]


def test_cpu_seconds_of_a_known_burn_in_a_container(podman_engine, tmp_path):
    runner, result = _run(podman_engine, tmp_path, BURN.format(s=2), Limits(wall_seconds=120))
    assert runner._engine_cgroup, result.notes
    # 2 s of the burn's own CPU, plus the interpreter's start, the attach process and the
    # engine's monitor: well under a second together.
    print("container burn of 2 s CPU:", result.metering)
    assert 2.0 <= result.metering["cpu_seconds"] < 3.0, result.metering
    assert not any("not metered" in n for n in result.notes)
    assert _left_behind(runner._engine_cgroup) == []


@pytest.mark.parametrize("memory_mb", [None, 1000])
def test_peak_memory_of_a_known_allocation_in_a_container(podman_engine, tmp_path, memory_mb):
    limits = Limits(wall_seconds=120, memory_mb=memory_mb)
    runner, result = _run(podman_engine, tmp_path, ALLOCATE.format(mb=200), limits)
    # 200 MB touched, plus the interpreter and what the engine's monitor and the attach
    # process use (tens of MB).
    print(f"container allocation of 200 MB (limit {memory_mb}):", result.metering)
    assert 200 <= result.metering["peak_memory_mb"] < 200 + 150, result.metering
    assert _left_behind(runner._engine_cgroup) == []


WRITE_FSYNCED = (
    "import os\nwith open('w', 'wb') as f:\n"
    "    f.write(os.urandom(20 * 2**20)); f.flush(); os.fsync(f.fileno())\n"
)


def test_disk_written_in_a_container_is_the_engine_cgroups_io_stat_or_null(podman_engine, tmp_path):
    runner, result = _run(podman_engine, tmp_path, WRITE_FSYNCED, Limits(wall_seconds=120))
    written = result.metering["disk_written_mb"]
    print("container write of 20 MB:", written, result.notes)
    v2 = cgroups._cgroup_mounts()[1]
    if _io_controller_is_v1():  # v1's blkio would miss buffered writes
        assert written is None
        assert any("cgroup v1's blkio does not see buffered writes" in n for n in result.notes)
    elif "io" not in (v2 / "cgroup.controllers").read_text().split():  # not delegated here
        assert written is None
        assert any("io controller of cgroup v2 is not enabled" in n for n in result.notes)
    else:  # what reached the disk, fsynced: the 20 MB and some metadata
        assert written is not None and 20 <= written < 22, result.notes
    assert _left_behind(runner._engine_cgroup) == []


def _io_controller_is_v1() -> bool:
    """Whether v1's blkio holds the io controller here (pure v1, or a hybrid host)."""
    mounts = [line.split() for line in open("/proc/self/mounts")]
    return any(m[2] == "cgroup" and "blkio" in m[3].split(",") for m in mounts)


def test_io_stat_bytes_written_sums_every_devices_wbytes():
    text = (
        "8:0 rbytes=4096 wbytes=1048576 rios=1 wios=8 dbytes=0 dios=0\n"
        "253:1 rbytes=0 wbytes=524288 rios=0 wios=2 dbytes=0 dios=0\n"
        "259:0 rbytes=12\n"
    )
    assert cgroups.io_stat_bytes_written(text) == 1048576 + 524288
    assert cgroups.io_stat_bytes_written("") == 0


def test_a_standin_for_a_systemd_driven_engine_leaves_the_container_unmetered(podman_engine):
    runner = ContainerRunner(engine=podman_engine.url, image=BASE_IMAGE)
    runner.check()

    class SystemdDriven:  # stands in for an engine under systemd (none runs here)
        def info(self):
            return {"CgroupDriver": "systemd"}

    runner._client = SystemdDriven()
    notes: list[str] = []
    spec: dict = {}
    assert runner._metered_cgroup(spec, notes) is None and "cgroup_parent" not in spec
    assert notes == [
        "the container's CPU time and memory are not metered: the engine's cgroup driver is "
        "systemd, not cgroupfs"
    ]
