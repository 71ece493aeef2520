"""Bounds on what a run writes: its captured output and its writable mounts.

An agent that writes without end must not fill the file system that holds every other run.

- **Captured output** (stdout, stderr) goes through a pipe that the harness drains into the
  log file, keeping at most ``output_mb`` per stream and counting what it drops. The agent
  never blocks on a full log, and never learns that its output is being dropped.
- **Writable mounts** (submission, logs, code) share one quota, ``disk_mb``. The kernel refuses
  any single file larger than the quota (RLIMIT_FSIZE, set in the started process); the harness
  adds up the blocks the mounts use, about once a second (less often when a scan takes long),
  and kills the run once they are over the quota (no grace period: it would write on). Between
  two scans an agent may go past the quota by what it can write in that time.

Nothing here follows a symbolic link or opens an agent's file: sizes come from lstat.
"""

from __future__ import annotations

import os
import resource
import select
import stat
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024
SCAN_INTERVAL_SECONDS = 1.0
# A scan may take at most this share of the harness's time: long scans are spaced out.
SCAN_SHARE = 0.1


# --- captured output --------------------------------------------------------------------------


class OutputCapture:
    """One captured stream: a pipe whose write end the run gets, drained into ``path``.

    At most ``cap_bytes`` reach the file (all of it without a cap); ``dropped`` counts the rest.
    Several streams may share one capture (stdout and stderr into the same file).
    """

    def __init__(self, path: Path, cap_bytes: int | None) -> None:
        self.path, self.cap, self.dropped, self.written = Path(path), cap_bytes, 0, 0
        self.read_fd, self.write_fd = os.pipe()
        self._file = open(self.path, "wb")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, name=f"capture {path.name}")
        self._thread.daemon = True
        self._thread.start()

    def _drain(self) -> None:
        try:
            while True:
                ready, _, _ = select.select([self.read_fd], [], [], 0.2)
                if not ready:
                    if self._stop.is_set():
                        return  # a writer outlived the run and its clean-up: stop anyway
                    continue
                chunk = os.read(self.read_fd, 1 << 16)
                if not chunk:
                    return  # every writer is gone
                room = len(chunk) if self.cap is None else max(0, self.cap - self.written)
                kept = chunk[:room]
                self._file.write(kept)
                self.written += len(kept)
                self.dropped += len(chunk) - len(kept)
        finally:
            self._file.close()

    def parent_done(self) -> None:
        """The run has its copy of the write end: the harness's own is closed, so that the
        drain sees end-of-file once the run's processes are gone."""
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1

    def finish(self, timeout: float = 5.0) -> None:
        """Wait until the stream is drained (every writer gone), at most ``timeout`` seconds."""
        self.parent_done()
        self._thread.join(timeout)
        self._stop.set()
        self._thread.join()
        os.close(self.read_fd)


# --- the writable mounts ----------------------------------------------------------------------


@dataclass
class DiskUsage:
    bytes: int
    files: int
    seconds: float  # how long the scan took


def disk_usage(roots: Sequence[Path]) -> DiskUsage:
    """Bytes of disk (allocated blocks, so sparse files count what they use) and entries under
    ``roots``; hard links count once, symbolic links are not followed."""
    started = time.monotonic()
    seen: set[tuple[int, int]] = set()
    total = files = 0
    stack = [str(r) for r in roots]
    while stack:
        folder = stack.pop()
        try:
            entries = os.scandir(folder)
        except OSError:
            continue  # removed meanwhile, or not readable: the agent's business
        with entries:
            for entry in entries:
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                files += 1
                if (st.st_dev, st.st_ino) in seen:
                    continue
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
                if stat.S_ISDIR(st.st_mode):
                    stack.append(entry.path)
    return DiskUsage(total, files, time.monotonic() - started)


class DiskWatch:
    """Scans the writable mounts about once a second: their peak and last size (metering) and,
    with a quota, whether they are over it."""

    def __init__(self, roots: Sequence[Path], quota_mb: int | None) -> None:
        self.roots, self.quota = list(roots), quota_mb * MB if quota_mb else None
        self.interval = SCAN_INTERVAL_SECONDS
        self.peak = 0
        self.last = 0
        self.exceeded: dict | None = None

    def check(self) -> bool:
        """True once the mounts are over the quota (``exceeded`` then says by how much)."""
        usage = disk_usage(self.roots)
        self.peak = max(self.peak, usage.bytes)
        self.last = usage.bytes
        self.interval = max(SCAN_INTERVAL_SECONDS, usage.seconds / SCAN_SHARE)
        if self.quota is not None and usage.bytes > self.quota:
            self.exceeded = {
                "quota_mb": self.quota // MB,
                "used_mb": round(usage.bytes / MB, 1),
                "files": usage.files,
                "mounts": [str(r) for r in self.roots],
            }
        return self.exceeded is not None


def limit_file_size(quota_mb: int | None) -> None:
    """In the started process, before exec: no single file may grow over the quota."""
    if quota_mb:
        size = quota_mb * MB
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


def free_mb(path: Path) -> float | None:
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize / MB
