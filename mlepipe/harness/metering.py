"""What a run used: CPU time, peak memory, disk and, with GPUs, GPU-hours and utilisation.

- **CPU-seconds** (user + system) of every process of the run, from its cgroup (v1 cpuacct,
  v2 cpu.stat). Without one, the runner ``none`` takes the harness's ``RUSAGE_CHILDREN``
  before and after (a process's usage reaches its parent when it is reaped); the other runners
  under bubblewrap and Apptainer take what the sandbox's guard reports of the processes it
  reaped (see below); a container's comes from the engine's cgroup.
- **Peak memory** of the run's memory cgroup (v1 ``memory.max_usage_in_bytes``, v2
  ``memory.peak``), page cache included as the limit counts it; null without a memory cgroup.
- **Disk written** (``disk_written_mb``): the bytes the run's processes sent towards a disk, as
  the kernel counts them when a page of a file is first dirtied (``write_bytes`` of
  /proc/PID/io, ``ru_oublock`` of getrusage). A file written and deleted before it reached the
  disk counts, a page rewritten before it was written back counts once, tmpfs (the sandbox's
  /tmp) counts not at all. A process's count reaches the process that reaps it, so it is read
  where every process of the run is reaped:
  - under bubblewrap and Apptainer, by the sandbox's guard (``guard.py``), a subreaper that
    reaps the agent and every orphan and reports the total on a pipe as it ends. Null, with a
    note, where it was killed before reporting (the agent outlived SIGTERM's grace);
  - under runner ``none``, by the harness (``RUSAGE_CHILDREN`` before and after), which misses
    the processes that left the agent's tree (orphans go to the host's init);
  - in a container, from the engine cgroup's ``io.stat`` (cgroup v2; block-device writes as
    they are written back). Null on cgroup v1, whose blkio does not see buffered writes.
- **Disk use**: the writable mounts (submission, logs, code) are scanned about once a second and
  once more at the end (``quota.DiskWatch``, allocated blocks): ``disk_used_peak_mb`` is the
  largest size a scan saw, ``disk_used_end_mb`` what the run left. A file written and deleted
  between two scans is missed; writes outside the mounts (the sandbox's tmpfs /tmp) are not on
  disk and not counted.
- **GPUs**: NVML (``nvidia-ml-py``) is sampled every second for each assigned device, giving
  the mean utilisation and the peak memory in use; GPU-hours are the wall time times the number
  of devices. Null, with a note, where NVML cannot be loaded.

Tokens and cost come from the model gateway (``usage`` in run.json).
"""

from __future__ import annotations

import json
import os
import resource
import threading
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_SECONDS = 1.0


def children_usage() -> tuple[float, int]:
    """CPU-seconds and bytes written of the harness's reaped children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime, usage.ru_oublock * 512


def peak_memory_mb(memory_dir: Path | None, version: int | None) -> float | None:
    """The run's memory cgroup's high-water mark, in MB (1 MB = 2**20 bytes)."""
    if memory_dir is None:
        return None
    name = "memory.max_usage_in_bytes" if version == 1 else "memory.peak"
    try:
        return round(int((memory_dir / name).read_text().strip()) / 2**20, 1)
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class GuardReport:
    """What the sandbox's guard counted of the processes it reaped (all of the sandbox's)."""

    bytes_written: int
    cpu_seconds: float


def read_guard_report(fd: int) -> GuardReport | None:
    """The guard's report from the (non-blocking) pipe ``fd``; None where it sent none (it was
    killed first) or nothing that reads as one."""
    data = b""
    while len(data) < 4096:
        try:
            chunk = os.read(fd, 4096)
        except BlockingIOError:
            break
        if not chunk:
            break
        data += chunk
    try:
        got = json.loads(data.split(b"\n", 1)[0])
        written, cpu = got["bytes_written"], got["cpu_seconds"]
    except (ValueError, KeyError, TypeError):
        return None
    if not (isinstance(written, int) and written >= 0 and isinstance(cpu, (int, float))):
        return None
    return GuardReport(written, float(cpu))


@dataclass
class GpuSampler:
    """Samples NVML for the assigned GPUs (by index or UUID) while the run lasts."""

    gpus: tuple[str, ...]
    interval: float = SAMPLE_SECONDS
    samples: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    note: str | None = None

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._handles: dict = {}
        self._nvml = None

    def start(self) -> GpuSampler:
        if not self.gpus:
            return self
        try:
            import pynvml  # nvidia-ml-py

            pynvml.nvmlInit()
            for gpu in self.gpus:
                self._handles[gpu] = (
                    pynvml.nvmlDeviceGetHandleByUUID(gpu)
                    if gpu.startswith(("GPU-", "MIG-"))
                    else pynvml.nvmlDeviceGetHandleByIndex(int(gpu))
                )
        except Exception as exc:  # no driver, no library, no such device
            self.note = f"GPU use not measured: NVML unavailable ({type(exc).__name__}: {exc})"
            return self
        self._nvml = pynvml
        self.samples = {gpu: [] for gpu in self.gpus}
        self._thread = threading.Thread(target=self._sample, name="nvml sampler", daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        nvml = self._nvml
        while True:
            for gpu, handle in self._handles.items():
                try:
                    util = nvml.nvmlDeviceGetUtilizationRates(handle).gpu
                    used = nvml.nvmlDeviceGetMemoryInfo(handle).used / 2**20
                except Exception:  # a device that went away: its samples stop
                    continue
                self.samples[gpu].append((float(util), float(used)))
            if self._stop.wait(self.interval):
                return

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            try:
                self._nvml.nvmlShutdown()
            except Exception:
                pass

    def fields(self, wall_seconds: float) -> dict:
        """gpu_hours and per-device figures; nulls where nothing was measured."""
        if not self.gpus:
            return {"gpu_hours": 0.0, "gpus": []}
        devices = []
        for gpu in self.gpus:
            got = self.samples.get(gpu) or []
            mean = round(sum(u for u, _ in got) / len(got), 1) if got else None
            peak = round(max(m for _, m in got), 1) if got else None
            devices.append(
                {"gpu": gpu, "samples": len(got), "mean_utilization_pct": mean,
                 "peak_memory_mb": peak}
            )  # fmt: skip
        return {"gpu_hours": round(wall_seconds * len(self.gpus) / 3600, 4), "gpus": devices}
