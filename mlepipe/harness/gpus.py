"""Which GPU devices a run may use, and which device files give it those GPUs.

Under Slurm the job's allocation decides (CUDA_VISIBLE_DEVICES / SLURM_JOB_GPUS). On a local
machine Snakemake's `gpu` resource caps how many runs hold GPUs at once, and this module picks
concrete free devices with one lock file per device, so that no two runs share a GPU. A runner
with its own /dev makes only the assigned devices' files visible (``gpu_device_paths``).
"""

from __future__ import annotations

import fcntl
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_DIR = Path(os.environ.get("MLEPIPE_GPU_LOCK_DIR", "/tmp/mlepipe-gpu-locks"))
GPU_CONTROL_DEVICES = ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset")


class GpuUnavailable(RuntimeError):
    pass


def host_gpus() -> list[str]:
    """Indices of the NVIDIA devices on this host (from /dev/nvidiaN)."""
    found = [
        m.group(1)
        for p in Path("/dev").glob("nvidia*")
        if (m := re.fullmatch(r"nvidia(\d+)", p.name))
    ]
    return sorted(found, key=int)


def scheduler_gpus() -> list[str] | None:
    """GPUs a batch scheduler already assigned to this job, or None if it assigned none."""
    for var in ("SLURM_JOB_GPUS", "CUDA_VISIBLE_DEVICES"):
        value = os.environ.get(var, "").strip()
        if value and value != "NoDevFiles":
            return [v for v in value.split(",") if v]
    return None


@contextmanager
def assigned_gpus(count: int) -> Iterator[tuple[str, ...]]:
    """Holds `count` GPUs for the duration of a run; yields their indices."""
    if count <= 0:
        yield ()
        return
    given = scheduler_gpus()
    if given is not None:
        if len(given) < count:
            raise GpuUnavailable(
                f"the scheduler assigned {len(given)} GPU(s), the run needs {count}"
            )
        yield tuple(given[:count])
        return
    total = host_gpus()
    if len(total) < count:
        raise GpuUnavailable(
            f"the run needs {count} GPU(s) but this host has {len(total)}; choose a hardware "
            "config with fewer GPUs or run on a GPU machine"
        )
    LOCK_DIR.mkdir(parents=True, exist_ok=True)
    held: list[tuple[str, int]] = []
    try:
        # Runs beyond the free devices wait here (Snakemake's `--resources gpu=N` avoids that).
        waited = False
        while len(held) < count:
            for idx in total:
                if len(held) == count or any(idx == h for h, _ in held):
                    continue
                fd = os.open(LOCK_DIR / f"gpu{idx}.lock", os.O_CREAT | os.O_RDWR, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                held.append((idx, fd))
            if len(held) < count:
                if not waited:
                    print(f"waiting for {count - len(held)} free GPU(s)", file=sys.stderr)
                    waited = True
                time.sleep(2)
        yield tuple(idx for idx, _ in held)
    finally:
        for _, fd in held:
            os.close(fd)


def gpu_device_paths(gpus: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The device files a run with GPUs ``gpus`` needs (control devices, the GPUs' own,
    MIG capabilities), and notes on assigned devices that are missing."""
    notes: list[str] = []
    if all(g.isdigit() for g in gpus):
        devices = [f"/dev/nvidia{g}" for g in gpus]
    else:
        # UUIDs or MIG names cannot be mapped to a device file: all GPUs are made visible and
        # CUDA_VISIBLE_DEVICES picks.
        devices = sorted(str(p) for p in Path("/dev").glob("nvidia[0-9]*"))
        notes.append(
            f"GPUs {', '.join(gpus)} are not indices: all GPU devices are bound and "
            "only CUDA_VISIBLE_DEVICES selects them"
        )
    for dev in devices:
        if not os.path.exists(dev):
            notes.append(f"GPU device {dev} is assigned but does not exist on this host")
    control = [f"/dev/{name}" for name in GPU_CONTROL_DEVICES]
    return [*control, *devices, "/dev/nvidia-caps"], notes
