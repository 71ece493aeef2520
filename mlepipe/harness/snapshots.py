"""Snapshots of the agent's submission while it runs, for anytime grading.

While the agent runs, a thread of the harness (on the host, outside the sandbox) looks at
``submission/submission.csv`` about once a second and keeps every distinct version in
``<run_dir>/snapshots/``, with an index ``snapshots.jsonl``: one line per version, in order,
``{"elapsed_s", "sha256", "bytes", "file"}``. They are graded after the run only; the folder is
never mounted, so the agent can see neither the copies nor any score.

- **Cheap looks.** A look is one ``lstat``: size, mtime, ctime and inode. Only a file that looks
  different from the last version kept is read, and only once it looks the same on two looks in
  a row (a file still being written waits for the next look). Its elapsed time is that of the
  first look that saw it so.
- **One pass.** The file is read once, in blocks, each block hashed (SHA-256) and written to the
  copy. The copy is kept only if the file did not change while being read.
- **A share of one CPU.** Reading takes CPU in proportion to the file's size; after each read the
  next waits until it would have used at most ``copy_share`` (0.5 %) of one CPU since. Small
  files are still taken on the next look; a 100 MB one rewritten every few seconds is taken
  about every 20 s (the versions in between are never read, and the one taken keeps the time it
  was first seen). The agent's own CPUs are thus left alone, whatever it writes.
- **Deduplicated.** Content already kept is stored once: a version whose hash matches an earlier
  one (an agent going back to an older file) is a new index line naming the same file. Writing
  the same content again is no new version.
- **Bounded.** At most ``max_versions`` index lines and ``max_mb`` of copies. Once either bound
  would be passed, intermediate versions are skipped (and counted in ``skipped``) and only the
  version at the end of the run is still taken: a timeline keeps its first versions and its
  final one. A version over ``max_file_mb`` (the submission cap) is skipped too.
- **Hostile files.** Nothing is followed: a symlink, fifo, socket, device or folder named
  submission.csv is no version (counted in ``ignored``); no open can block.

The final look, after the run has ended, takes the file as it is then: the timeline's last
version is the run's final submission.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from mlepipe.snapshot_index import INDEX, SNAPSHOTS_DIR, read_index

__all__ = ["INDEX", "SNAPSHOTS_DIR", "SnapshotLimits", "SubmissionWatcher", "read_index"]

MB = 1024 * 1024
SUMMARY = "summary.json"
LOOK_INTERVAL_SECONDS = 1.0
COPY_SHARE = 0.005
DEFAULT_MAX_VERSIONS = 50
DEFAULT_MAX_MB = 2048
_BLOCK = 1 << 20
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


@dataclass(frozen=True)
class SnapshotLimits:
    max_versions: int = DEFAULT_MAX_VERSIONS
    max_mb: int = DEFAULT_MAX_MB
    max_file_mb: int | None = None
    interval: float = LOOK_INTERVAL_SECONDS
    # The most of one CPU that reading versions may take (None: read each on the next look).
    copy_share: float | None = COPY_SHARE

    @property
    def enabled(self) -> bool:
        return self.max_versions > 0 and self.max_mb > 0


@dataclass
class Version:
    elapsed_s: float
    sha256: str
    bytes: int
    file: str

    def as_dict(self) -> dict:
        return {
            "elapsed_s": round(self.elapsed_s, 3), "sha256": self.sha256,
            "bytes": self.bytes, "file": self.file,
        }  # fmt: skip


@dataclass
class SubmissionWatcher:
    """Keeps the distinct versions of ``source_dir/submission.csv`` in ``dest``."""

    source_dir: Path
    dest: Path
    limits: SnapshotLimits = field(default_factory=SnapshotLimits)
    name: str = "submission.csv"

    def __post_init__(self) -> None:
        self.source_dir, self.dest = Path(self.source_dir), Path(self.dest)
        self.versions: list[Version] = []
        self.files: dict[str, int] = {}  # sha256 -> bytes stored
        self.stored_bytes = 0
        self.skipped = 0
        self.ignored = 0
        self.cpu_seconds = 0.0
        self.looks = 0
        self._kept_sig: tuple | None = None  # the stat signature of the last version kept
        self._seen: tuple[tuple, float] | None = None  # signature and time of the last look
        self._ignored_sig: tuple | None = None
        self._next_copy = 0.0  # elapsed time before which no file is read (COPY_SHARE)
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the thread ---------------------------------------------------------------------------

    def start(self) -> SubmissionWatcher:
        """Start looking now; elapsed times count from here."""
        self.dest.mkdir(parents=True, exist_ok=True)
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="submission snapshots")
        self._thread.daemon = True
        self._thread.start()
        return self

    def _loop(self) -> None:
        cpu = time.thread_time()
        try:
            while not self._stop.wait(self.limits.interval):
                self.look()
        finally:
            self.cpu_seconds += time.thread_time() - cpu

    def finish(self) -> dict:
        """Stop the thread, take the version the run ended with, write the index; returns the
        summary (also written to ``summary.json``)."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
        cpu = time.thread_time()
        self.look(final=True)
        self.cpu_seconds += time.thread_time() - cpu
        summary = self.summary()
        _write_text(self.dest / SUMMARY, json.dumps(summary, indent=2) + "\n")
        return summary

    def __enter__(self) -> SubmissionWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.finish()

    # --- one look -----------------------------------------------------------------------------

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def look(self, final: bool = False) -> Version | None:
        """One look at the file; returns the version it kept, if any."""
        self.looks += 1
        now = self.elapsed()
        try:
            st = os.lstat(self.source_dir / self.name)
        except OSError:
            self._seen = None
            return None
        sig = (st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
        if not stat.S_ISREG(st.st_mode):
            if sig != self._ignored_sig:
                self.ignored += 1  # counted once per thing put there, not once per look
                self._ignored_sig = sig
            self._seen = None
            return None
        if sig == self._kept_sig:
            self._seen = (sig, now)
            return None
        first_seen = self._seen[1] if self._seen and self._seen[0] == sig else None
        self._seen = (sig, now if first_seen is None else first_seen)
        if first_seen is None and not final:
            return None  # new or still changing: wait for the next look
        if not final and (self._full() or now < self._next_copy):
            return None  # the bound is reached (only the final version is still taken), or wait
        cpu = time.thread_time()
        try:
            return self._take(sig, now if first_seen is None else first_seen, final)
        finally:
            if self.limits.copy_share:
                self._next_copy = now + (time.thread_time() - cpu) / self.limits.copy_share

    def _full(self) -> bool:
        """Whether an intermediate version would leave no room for the final one."""
        return len(self.versions) >= self.limits.max_versions - 1

    def _take(self, sig: tuple, elapsed: float, final: bool) -> Version | None:
        size = sig[1]
        cap = self.limits.max_file_mb * MB if self.limits.max_file_mb else None
        if (cap is not None and size > cap) or size > self.limits.max_mb * MB:
            self._skip(sig)
            return None
        copied = self._copy(sig)
        if copied is None:
            return None
        digest, tmp, nbytes = copied
        if self.versions and self.versions[-1].sha256 == digest:
            tmp.unlink()  # the same content written again
            self._kept_sig = sig
            return None
        if digest in self.files:
            tmp.unlink()
        else:
            room = self.limits.max_mb * MB - self.stored_bytes
            if nbytes > room and not self._make_room(nbytes - room, final):
                tmp.unlink()
                self._skip(sig)
                return None
            tmp.replace(self.dest / _file_name(digest))
            self.files[digest] = nbytes
            self.stored_bytes += nbytes
        if len(self.versions) >= self.limits.max_versions:
            self._drop_last()  # the final version takes the last slot
        version = Version(elapsed, digest, nbytes, _file_name(digest))
        self.versions.append(version)
        self._kept_sig = sig
        _write_text(
            self.dest / INDEX, "".join(json.dumps(v.as_dict()) + "\n" for v in self.versions)
        )
        return version

    def _skip(self, sig: tuple) -> None:
        self.skipped += 1
        self._kept_sig = sig  # not read again until it changes

    def _make_room(self, needed: int, final: bool) -> bool:
        """Only the final version may push out the last intermediate ones."""
        if not final:
            return False
        while needed > 0 and self.versions:
            needed -= self._drop_last()
        return needed <= 0

    def _drop_last(self) -> int:
        """Removes the newest version kept (counted as skipped); the bytes freed."""
        gone = self.versions.pop()
        self.skipped += 1
        if any(v.sha256 == gone.sha256 for v in self.versions):
            return 0
        freed = self.files.pop(gone.sha256)
        self.stored_bytes -= freed
        (self.dest / gone.file).unlink(missing_ok=True)
        return freed

    def _copy(self, sig: tuple) -> tuple[str, Path, int] | None:
        """Hash and copy the file in one pass: (sha256, the copy, bytes), or None where it is no
        longer the file looked at (changed, swapped, or not a regular file)."""
        try:
            fd = os.open(self.source_dir / self.name, _READ_FLAGS)
        except OSError:
            return None  # swapped for a symlink or removed meanwhile
        tmp = self.dest / f".incoming-{os.getpid()}"
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or (st.st_ino, st.st_dev) != sig[4:]:
                return None
            h = hashlib.sha256()
            buf = bytearray(_BLOCK)
            view = memoryview(buf)
            nbytes = 0
            limit = sig[1]
            with open(tmp, "wb", buffering=0) as out:
                while nbytes <= limit:
                    n = os.readv(fd, [view])
                    if not n:
                        break
                    h.update(view[:n])
                    out.write(view[:n])
                    nbytes += n
            after = os.fstat(fd)
        except OSError:
            tmp.unlink(missing_ok=True)
            return None
        finally:
            os.close(fd)
        if nbytes != sig[1] or (after.st_size, after.st_mtime_ns, after.st_ctime_ns) != sig[1:4]:
            tmp.unlink(missing_ok=True)  # it changed while being read: the next look decides
            return None
        return h.hexdigest(), tmp, nbytes

    def summary(self) -> dict:
        return {
            "versions": len(self.versions),
            "distinct": len({v.sha256 for v in self.versions}),
            "stored_mb": round(self.stored_bytes / MB, 3),
            "skipped": self.skipped,
            "ignored": self.ignored,
            "looks": self.looks,
            "cpu_seconds": round(self.cpu_seconds, 4),
            "max_versions": self.limits.max_versions,
            "max_mb": self.limits.max_mb,
        }


def _file_name(digest: str) -> str:
    return f"{digest}.csv"


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text)
    tmp.replace(path)
