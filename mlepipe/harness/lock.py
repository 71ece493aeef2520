"""A run directory's lock that holds across the nodes of a shared file system.

`flock` is node-local on many NFS setups, so the lock is a file made with `link()` (atomic on
NFS too) that names its holder: host, pid, the process's start time, Slurm job id and when it
was taken. A lock whose holder is provably gone is broken, with a message: same host and that
process no longer exists (or the pid now belongs to a younger process), or its Slurm job is no
longer alive. Any other lock is waited for: its holder is bounded by its own time limit.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlepipe.harness import records, slurm
from mlepipe.harness.records import host_name


class LockTimeout(RuntimeError):
    """The lock was still held by a live holder when the wait ended."""


def process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc/<pid>/stat field 22)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _owner() -> dict[str, Any]:
    return {
        "host": host_name(), "pid": os.getpid(), "process_start": process_start(os.getpid()),
        "slurm_job_id": slurm.current_job_id(), "since": records.now(),
    }  # fmt: skip


def holder_gone(owner: dict[str, Any]) -> str | None:
    """Why the lock's holder is provably gone, or None while it may still be at work."""
    if owner.get("host") == host_name() and isinstance(owner.get("pid"), int):
        start = process_start(owner["pid"])
        if start is None:
            return f"process {owner['pid']} on {owner['host']} has ended"
        if owner.get("process_start") and start != owner["process_start"]:
            return f"process {owner['pid']} on {owner['host']} has ended (pid reused)"
        return None
    if owner.get("slurm_job_id") and slurm.job_alive(owner["slurm_job_id"]) is False:
        return f"Slurm job {owner['slurm_job_id']} has ended"
    return None


def _read_owner(path: Path) -> dict[str, Any] | None:
    try:
        owner = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return owner if isinstance(owner, dict) else {}


def _describe(owner: dict[str, Any]) -> str:
    job = f", Slurm job {owner['slurm_job_id']}" if owner.get("slurm_job_id") else ""
    return f"{owner.get('host')} pid {owner.get('pid')}{job}, since {owner.get('since')}"


@contextmanager
def run_dir_lock(
    run_dir: Path, max_wait_seconds: float, poll_seconds: float = 2.0
) -> Iterator[None]:
    """Holds `.<run>.lock` beside ``run_dir`` while the block runs; waits at most
    ``max_wait_seconds`` for a live holder, then raises LockTimeout."""
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    path = run_dir.parent / f".{run_dir.name}.lock"
    mine = _owner()
    # Written whole under a name of our own, then linked into place: the lock never exists
    # without its holder's name in it.
    tmp = path.with_name(f"{path.name}.{mine['host']}.{mine['pid']}")
    tmp.write_text(json.dumps(mine) + "\n")
    deadline = time.monotonic() + max_wait_seconds
    said_waiting = False
    try:
        while True:
            try:
                os.link(tmp, path)
                break
            except FileExistsError:
                pass
            owner = _read_owner(path)
            if owner is None:
                continue  # released meanwhile
            gone = holder_gone(owner) if owner else None
            if gone:
                print(f"run {run_dir}: breaking a stale lock ({_describe(owner)}): {gone}",
                      file=sys.stderr)  # fmt: skip
                _remove_if_same(path, owner)
                continue
            if time.monotonic() > deadline:
                raise LockTimeout(
                    f"run directory {run_dir} is still locked by {_describe(owner)} after "
                    f"{max_wait_seconds:.0f} s; if that holder is gone, remove {path}"
                )
            if not said_waiting:
                print(f"run {run_dir}: waiting for the lock held by {_describe(owner)}",
                      file=sys.stderr)  # fmt: skip
                said_waiting = True
            time.sleep(poll_seconds)
    finally:
        tmp.unlink(missing_ok=True)
    try:
        yield
    finally:
        _remove_if_same(path, mine)


def _remove_if_same(path: Path, owner: dict[str, Any]) -> None:
    """Removes the lock only if it still names ``owner`` (another may hold it by now)."""
    if _read_owner(path) == owner:
        path.unlink(missing_ok=True)
