"""Per-run control groups: memory, CPU and process limits for one agent run.

Each run gets its own cgroup, nested under the caller's cgroup (so that limits the caller is
already under, e.g. a Slurm job's, keep applying) in a folder named ``mlepipe/<pid>-<token>``.
cgroup v1 controllers are used where they are mounted, v2 where the unified hierarchy offers them.
Where neither can be written (no root, no delegation), the run goes ahead without the limit and
the reason is recorded, so that reports can say which limits held.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import math
import os
import re
import secrets
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PARENT_NAME = "mlepipe"
CPU_PERIOD_US = 100_000
_RUN_NAME = re.compile(r"^(\d+)-[0-9a-f]+$")


@dataclass
class RunCgroup:
    """The cgroup folders of one run (one per v1 hierarchy, or one v2 folder)."""

    dirs: list[Path] = field(default_factory=list)
    enforced: dict[str, str | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    memory_dir: Path | None = None
    memory_version: int | None = None
    # Where the run's CPU time is counted (v1 cpuacct, or the v2 folder's cpu.stat).
    cpu_usage_dir: Path | None = None
    cpu_usage_version: int | None = None

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) of every process that was in the run."""
        if self.cpu_usage_dir is None:
            return None
        try:
            if self.cpu_usage_version == 1:
                return int(_read(self.cpu_usage_dir / "cpuacct.usage")) / 1e9
            return _read_counter(self.cpu_usage_dir / "cpu.stat", "usage_usec") / 1e6
        except (OSError, ValueError):
            return None

    def open_procs_files(self) -> list[int]:
        """Descriptors of each folder's cgroup.procs; writing "0" moves the writer in."""
        return [os.open(d / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC) for d in self.dirs]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for d in self.dirs:
            found |= _read_pids(d)
        return found

    def signal_all(self, sig: int, exclude: tuple[int, ...] = ()) -> None:
        for pid in self.pids() - set(exclude):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def oom_killed(self) -> bool:
        """Whether the kernel OOM-killed anything in this run's memory cgroup."""
        if self.memory_dir is None:
            return False
        name = "memory.oom_control" if self.memory_version == 1 else "memory.events"
        return _read_counter(self.memory_dir / name, "oom_kill") > 0

    def remove(self, timeout: float = 5.0) -> None:
        """Kill what is left inside and remove the folders."""
        deadline = time.monotonic() + timeout
        for d in self.dirs:
            _rmdir_while_busy(d, deadline, 0.02, before=functools.partial(_kill_all, d))
            # The shared parent goes too once no run uses it, so that the caller's own cgroup
            # can be removed later; with other runs inside this fails (EBUSY) and is ignored.
            try:
                d.parent.rmdir()
            except OSError:
                pass
        self.dirs = []


def create_run_cgroup(memory_mb: int | None, cpus: float | None, pids: int | None) -> RunCgroup:
    """Create the run's cgroup(s) and set the limits that can be set.

    A cgroup is created even without limits: it lets the caller find and kill every process
    of the run, including ones that left the session.
    """
    run = RunCgroup()
    requested = {"memory_mb": memory_mb, "cpus": cpus, "pids": pids}
    run.enforced = {k: None for k in requested}
    wanted = set()
    if memory_mb is not None:
        wanted.add("memory")
    if cpus is not None:
        wanted |= {"cpu", "cpuset"}
    if pids is not None:
        wanted.add("pids")
    name = f"{os.getpid()}-{secrets.token_hex(4)}"
    v1_mounts, v2_mount = _cgroup_mounts()
    own = _own_cgroups()
    if "pids" in v1_mounts:
        wanted.add("pids")  # the v1 pids hierarchy doubles as the run's process list
    # Metered even without a limit: peak memory, CPU time.
    wanted |= {c for c in ("memory", "cpuacct") if c in v1_mounts}

    v2_controllers: list[str] = []
    for ctrl in sorted(wanted):
        mount = v1_mounts.get(ctrl)
        if mount is not None:
            base = mount / own.get(ctrl, "/").lstrip("/")
            for attempt in range(3):
                try:
                    _setup_v1(run, ctrl, base, name, memory_mb, cpus, pids)
                    break
                except FileNotFoundError as exc:
                    # Another run may have removed the shared parent meanwhile: try again.
                    if attempt == 2:
                        _not_enforced(run, ctrl, requested, f"cgroup v1 {ctrl}: {_why(exc)}")
                except OSError as exc:
                    _not_enforced(run, ctrl, requested, f"cgroup v1 {ctrl}: {_why(exc)}")
                    break
        else:
            v2_controllers.append(ctrl)
    if v2_mount is not None and (v2_controllers or not run.dirs):
        own_v2 = v2_mount / own.get("", "/").lstrip("/")
        _setup_v2(run, v2_controllers, v2_mount, own_v2, name, memory_mb, cpus, pids, requested)
    else:
        for ctrl in v2_controllers:
            _not_enforced(run, ctrl, requested, f"no cgroup {ctrl} controller is mounted")
    return run


def remove_stale_run_cgroups() -> list[Path]:
    """Remove run cgroups left behind by a harness that was killed; returns what was removed."""
    v1_mounts, v2_mount = _cgroup_mounts()
    own = _own_cgroups()
    parents = {m / own.get(c, "/").lstrip("/") / PARENT_NAME for c, m in v1_mounts.items()}
    if v2_mount is not None:
        parents |= {
            base / PARENT_NAME
            for base in _v2_bases(v2_mount, v2_mount / own.get("", "/").lstrip("/"))
        }
    removed = []
    for parent in parents:
        try:
            children = list(parent.iterdir())
        except OSError:
            continue
        for child in children:
            match = _RUN_NAME.match(child.name)
            if not child.is_dir() or match is None or _alive(int(match.group(1))):
                continue
            stale = RunCgroup(dirs=[child])
            stale.remove(timeout=2.0)
            if not child.exists():
                removed.append(child)
    return removed


# --- v1 -------------------------------------------------------------------------------------


def _setup_v1(
    run: RunCgroup,
    ctrl: str,
    base: Path,
    name: str,
    memory_mb: int | None,
    cpus: float | None,
    pids: int | None,
) -> None:
    parent = base / PARENT_NAME
    parent.mkdir(exist_ok=True)
    if ctrl == "cpuset" and not _read(parent / "cpuset.mems"):
        # v1 cpusets start empty; a child can only use what its parent holds.
        _write(parent / "cpuset.cpus", _read(base / "cpuset.cpus"))
        _write(parent / "cpuset.mems", _read(base / "cpuset.mems"))
    path = parent / name
    if ctrl == "cpuset":
        with _locked(parent):
            chosen = _choose_cpus(
                cpus or 0,
                _parse_cpulist(_read(parent / "cpuset.cpus")),
                [p / "cpuset.cpus" for p in parent.iterdir() if p.is_dir()],
            )
            if chosen is None:
                return
            path.mkdir()
            run.dirs.append(path)
            _write(path / "cpuset.mems", _read(parent / "cpuset.mems"))
            _write(path / "cpuset.cpus", _format_cpulist(chosen))
        run.enforced["cpus"] = "cgroup-v1"
        run.notes.append(f"CPUs pinned to {_format_cpulist(chosen)} (cpuset)")
        return
    path.mkdir()
    run.dirs.append(path)
    if ctrl == "cpuacct" or (ctrl == "cpu" and (path / "cpuacct.usage").exists()):
        run.cpu_usage_dir, run.cpu_usage_version = path, 1
    if ctrl == "memory":
        run.memory_dir, run.memory_version = path, 1
        if memory_mb is not None:
            limit = str(memory_mb * 1024 * 1024)
            _write(path / "memory.limit_in_bytes", limit)
            if (path / "memory.memsw.limit_in_bytes").exists():
                # Without this the run could spill past its limit into swap.
                _write(path / "memory.memsw.limit_in_bytes", limit)
            run.enforced["memory_mb"] = "cgroup-v1"
    elif ctrl == "cpu" and cpus is not None:
        _write(path / "cpu.cfs_period_us", str(CPU_PERIOD_US))
        _write(path / "cpu.cfs_quota_us", str(max(1000, int(cpus * CPU_PERIOD_US))))
        run.enforced["cpus"] = "cgroup-v1"
    elif ctrl == "pids" and pids is not None:
        _write(path / "pids.max", str(pids))
        run.enforced["pids"] = "cgroup-v1"


# --- v2 -------------------------------------------------------------------------------------


def _setup_v2(
    run: RunCgroup,
    controllers: list[str],
    mount: Path,
    own: Path,
    name: str,
    memory_mb: int | None,
    cpus: float | None,
    pids: int | None,
    requested: dict,
) -> None:
    usable: list[str] = []
    problem = ""
    for base in _v2_bases(mount, own):
        try:
            available = set(_read(base / "cgroup.controllers").split())
            usable = [c for c in controllers if c in available]
            # A cgroup that holds processes cannot pass controllers down (EBUSY), except the
            # root: then the run goes beside the caller's cgroup, still under its parent.
            for ctrl in usable:
                _enable(base, ctrl)
            parent = base / PARENT_NAME
            path = _make_v2_run_dir(parent, usable, name)
        except OSError as exc:
            problem = _why(exc)
            usable = []
            continue
        break
    else:
        for ctrl in controllers:
            _not_enforced(
                run,
                ctrl,
                requested,
                f"cgroup v2 {ctrl}: {problem}; on a systemd "
                "host run the pipeline under `systemd-run --user --scope`",
            )
        return
    for ctrl in controllers:
        if ctrl not in usable:
            _not_enforced(
                run, ctrl, requested, f"cgroup v2: the {ctrl} controller is not delegated to {base}"
            )
    run.dirs.append(path)
    if run.cpu_usage_dir is None:
        run.cpu_usage_dir, run.cpu_usage_version = path, 2  # cpu.stat is always there
    try:
        if "cpuset" in usable:
            with _locked(parent):
                allowed = _parse_cpulist(_read(parent / "cpuset.cpus.effective"))
                siblings = [p / "cpuset.cpus" for p in parent.iterdir() if p.is_dir()]
                chosen = _choose_cpus(cpus or 0, allowed, [f for f in siblings if f.parent != path])
                if chosen is not None:
                    _write(path / "cpuset.cpus", _format_cpulist(chosen))
                    run.enforced["cpus"] = "cgroup-v2"
                    run.notes.append(f"CPUs pinned to {_format_cpulist(chosen)} (cpuset)")
        if "memory" in usable:
            run.memory_dir, run.memory_version = path, 2
        if "memory" in usable and memory_mb is not None:
            _write(path / "memory.max", str(memory_mb * 1024 * 1024))
            if (path / "memory.swap.max").exists():
                _write(path / "memory.swap.max", "0")
            run.enforced["memory_mb"] = "cgroup-v2"
        if "cpu" in usable and cpus is not None:
            quota = max(1000, int(cpus * CPU_PERIOD_US))
            _write(path / "cpu.max", f"{quota} {CPU_PERIOD_US}")
            run.enforced["cpus"] = "cgroup-v2"
        if "pids" in usable and pids is not None:
            _write(path / "pids.max", str(pids))
            run.enforced["pids"] = "cgroup-v2"
    except OSError as exc:
        for ctrl in usable:
            _not_enforced(run, ctrl, requested, f"cgroup v2 {ctrl}: {_why(exc)}")


def _make_v2_run_dir(parent: Path, controllers: list[str], name: str) -> Path:
    for attempt in range(3):
        try:
            parent.mkdir(exist_ok=True)
            for ctrl in controllers:
                _enable(parent, ctrl)
            (parent / name).mkdir()
            return parent / name
        except FileNotFoundError:
            # Another run may have removed the shared parent meanwhile: try again.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _v2_bases(mount: Path, own: Path) -> list[Path]:
    """Where run cgroups may go: under the caller's cgroup, else beside it."""
    return [own] if own == mount else [own, own.parent]


def _enable(cgroup: Path, ctrl: str) -> None:
    if ctrl not in _read(cgroup / "cgroup.subtree_control").split():
        _write(cgroup / "cgroup.subtree_control", f"+{ctrl}")


# --- helpers --------------------------------------------------------------------------------

_LIMIT_OF = {"memory": "memory_mb", "cpu": "cpus", "cpuset": "cpus", "pids": "pids"}


def _not_enforced(run: RunCgroup, ctrl: str, requested: dict, reason: str) -> None:
    limit = _LIMIT_OF[ctrl]
    if ctrl == "pids" and requested["pids"] is None:
        run.notes.append(f"processes are not tracked by a cgroup ({reason})")
    elif ctrl == "cpuset":
        run.notes.append(f"CPUs not pinned ({reason})")
    elif requested[limit] is not None:
        run.notes.append(f"{limit} not enforced: {reason}")


def _why(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"no permission to create a cgroup ({exc.strerror}: {exc.filename})"
    return f"{exc.strerror or exc} ({exc.filename})"


def _cgroup_mount_table() -> list[tuple[Path, str, list[str]]]:
    """Mount point, type (cgroup or cgroup2) and options of every cgroup hierarchy."""
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return []
    return [(Path(p[1]), p[2], p[3].split(",")) for p in (line.split() for line in lines)
            if len(p) > 3 and p[2] in ("cgroup", "cgroup2")]  # fmt: skip


def _cgroup_mounts() -> tuple[dict[str, Path], Path | None]:
    """Mount points of the v1 controllers and of the v2 unified hierarchy."""
    v1: dict[str, Path] = {}
    v2 = None
    for mount_point, fstype, options in _cgroup_mount_table():
        if fstype == "cgroup2" and v2 is None:
            v2 = mount_point
        elif fstype == "cgroup":
            for ctrl in ("memory", "cpu", "cpuacct", "cpuset", "pids"):
                if ctrl in options:
                    v1.setdefault(ctrl, mount_point)
    return v1, v2


def _own_cgroups() -> dict[str, str]:
    """The caller's cgroup path per v1 controller; key "" holds the v2 path."""
    own: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return own
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        for ctrl in parts[1].split(",") if parts[1] else [""]:
            own[ctrl] = parts[2]
    return own


def _choose_cpus(cpus: float, allowed: list[int], sibling_files: list[Path]) -> list[int] | None:
    """The least-used CPUs among the allowed ones, or None where pinning gains nothing."""
    affinity = os.sched_getaffinity(0)
    allowed = [c for c in allowed if c in affinity] or sorted(affinity)
    wanted = max(1, math.ceil(cpus))
    if wanted >= len(allowed):
        return None
    use = {c: 0 for c in allowed}
    for f in sibling_files:
        try:
            for c in _parse_cpulist(f.read_text()):
                if c in use:
                    use[c] += 1
        except OSError:
            continue
    return sorted(sorted(allowed, key=lambda c: (use[c], c))[:wanted])


def _parse_cpulist(text: str) -> list[int]:
    cpus: list[int] = []
    for part in text.strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        cpus.extend(range(int(lo), int(hi or lo) + 1))
    return cpus


def _format_cpulist(cpus: list[int]) -> str:
    return ",".join(str(c) for c in cpus)


class _locked:
    """An exclusive flock on a folder, so concurrent runs choose CPUs one at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1

    def __enter__(self) -> None:
        self.fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)


def _read(path: Path) -> str:
    return path.read_text().strip()


def _write(path: Path, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _read_pids(cgroup: Path) -> set[int]:
    try:
        return {int(x) for x in (cgroup / "cgroup.procs").read_text().split()}
    except (OSError, ValueError):
        return set()


def _read_counter(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- cgroups a container engine makes for a run -----------------------------------------------

ENGINE_PARENT = "mlepipe-engine"


def engine_cgroup_path() -> str:
    """A fresh cgroup path (the same in every hierarchy) under which a container engine starts
    one run's container. The engine makes it; unlike the container's own cgroup, which goes
    with the container, it keeps the container's CPU time and memory high-water mark until
    ``remove_engine_cgroup``. Named after the harness's pid, as run cgroups are."""
    return f"/{ENGINE_PARENT}/{os.getpid()}-{secrets.token_hex(4)}"


def engine_usage(path: str) -> tuple[float | None, float | None]:
    """CPU-seconds and peak memory (MB) counted at ``path`` (v1 cpuacct and memory, else v2)."""
    from mlepipe.harness.metering import peak_memory_mb

    v1, v2 = _cgroup_mounts()
    rel = path.lstrip("/")
    cpu_usage = None
    if "cpuacct" in v1:
        cpu_usage = RunCgroup(cpu_usage_dir=v1["cpuacct"] / rel, cpu_usage_version=1)
    elif v2 is not None:
        cpu_usage = RunCgroup(cpu_usage_dir=v2 / rel, cpu_usage_version=2)
    memory = ((v1["memory"] / rel, 1) if "memory" in v1 else
              (v2 / rel, 2) if v2 is not None else (None, None))  # fmt: skip
    cpu = cpu_usage.cpu_seconds() if cpu_usage else None
    return cpu, peak_memory_mb(*memory)


def engine_bytes_written(path: str) -> tuple[int | None, str | None]:
    """Bytes written to block devices counted at ``path`` (v2 ``io.stat``, the sum of
    ``wbytes``), else None and why: v1's blkio is not read, as it misses buffered writes (they
    reach the disk from the kernel's flusher threads, outside the container's cgroup)."""
    _, v2 = _cgroup_mounts()
    stat = v2 / path.lstrip("/") / "io.stat" if v2 is not None else None
    if stat is not None and stat.is_file():
        return io_stat_bytes_written(stat.read_text()), None
    # On a hybrid host the v2 hierarchy exists but v1's blkio holds the io controller.
    why = "the io controller of cgroup v2 is not enabled for the engine's cgroup"
    if stat is None or _v1_blkio_mounted():
        why = "cgroup v1's blkio does not see buffered writes"
    return None, f"disk written not measured in the container: {why}"


def _v1_blkio_mounted() -> bool:
    return any(t == "cgroup" and "blkio" in opts for _, t, opts in _cgroup_mount_table())


def io_stat_bytes_written(text: str) -> int:
    """The sum of ``wbytes`` over the devices of a v2 ``io.stat`` (lines ``MAJ:MIN k=v ...``)."""
    total = 0
    for line in text.splitlines():
        for pair in line.split()[1:]:
            key, _, value = pair.partition("=")
            if key == "wbytes" and value.isdigit():
                total += int(value)
    return total


def remove_engine_cgroup(path: str, timeout: float = 3.0) -> None:
    """Remove ``path`` and what the engine made below it in every hierarchy (its monitor's
    folder may take a moment to empty), and the shared parent once no run uses it."""
    deadline = time.monotonic() + timeout
    for mount in _hierarchies():
        top = mount / path.lstrip("/")
        if not top.is_dir():
            continue
        below = sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts))
        for folder in [*below, top]:
            _rmdir_while_busy(folder, deadline, 0.05)
        try:
            top.parent.rmdir()
        except OSError:  # other runs' folders are in it
            pass


def remove_stale_engine_cgroups() -> None:
    """Remove the engine cgroups of runs whose harness is gone (killed before its clean-up)."""
    stale = set()
    for mount in _hierarchies():
        try:
            children = list((mount / ENGINE_PARENT).iterdir())
        except OSError:
            continue
        for child in children:
            match = _RUN_NAME.match(child.name)
            if child.is_dir() and match and not _alive(int(match.group(1))):
                stale.add(child.name)
    for name in stale:
        remove_engine_cgroup(f"/{ENGINE_PARENT}/{name}", timeout=0)


def _hierarchies() -> list[Path]:
    """Mount points of every cgroup hierarchy (v1 ones, named ones, the v2 one)."""
    return [mount_point for mount_point, _, _ in _cgroup_mount_table()]


def _kill_all(folder: Path) -> None:
    for pid in _read_pids(folder):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _rmdir_while_busy(
    folder: Path, deadline: float, pause: float, before: Callable[[], None] | None = None
) -> None:
    """Remove a cgroup folder, retrying while the kernel says it is busy (its processes are
    still exiting) until ``deadline``; ``before`` runs ahead of every try."""
    while True:
        if before is not None:
            before()
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                return
            time.sleep(pause)
