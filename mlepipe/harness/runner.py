"""What every runner does, and the runners by name.

A runner runs one agent process until it exits or its wall-clock limit passes, in these steps:

1. check that it can run on this host (``check``);
2. prepare the mounts (``prepare_mounts``), the environment (``environment``) and the paths the
   agent is given (``agent_view``: sandbox paths, or the host paths behind them);
3. say what it enforces itself (``isolation``: network, file system, GPUs);
4. start the command in the run's cgroup (``launch`` builds the command line);
5. enforce the time limit and the disk quota: SIGTERM, a grace period, SIGKILL (``stop``);
6. collect the result: exit code or signal, timeout, OOM, enforced limits, notes;
7. clean up: leftover processes (``kill_leftovers``) and the cgroup; what the run used is
   metered on the way (``metering``).

The harness enforces the wall-clock limit itself and never depends on a TTY or systemd, so it
behaves the same under Slurm. Output streams are captured into files, each up to a cap, and the
writable mounts share a disk quota (``quota``). Every run gets its own cgroup
(memory, CPU and process limits where the host allows; see ``cgroups``), which also lets the
harness find every process of the run, including ones that left the session.

A runner is one class (a ``Runner``) and one entry in ``runners.runner_classes``; its name is what
``sandbox:`` takes in the configuration and what results record as ``runner``. ``get_runner``
gives the runner of a name.
"""

from __future__ import annotations

import ctypes
import os
import re
import signal
import subprocess
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import ClassVar

from mlepipe.harness import cgroups, metering, quota

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Mount targets that would land on something the sandbox itself provides read-only.
_RESERVED_TARGETS = ("/usr", "/proc", "/dev", "/sys")


@dataclass(frozen=True)
class Mount:
    """A host path made visible at ``target`` inside the sandbox."""

    source: Path
    target: str
    writable: bool = False


@dataclass(frozen=True)
class Limits:
    wall_seconds: float
    memory_mb: int | None = None
    cpus: float | None = None
    pids: int | None = None
    gpus: tuple[str, ...] = ()
    # Between SIGTERM and SIGKILL when the wall-clock limit is reached.
    grace_seconds: float = 5.0
    # All writable mounts together, and each captured stream (see ``quota``).
    disk_mb: int | None = None
    output_mb: int | None = None


@dataclass
class SandboxResult:
    runner: str
    exit_code: int | None
    signal: int | None
    timed_out: bool
    oom_killed: bool
    wall_seconds: float
    enforced: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Set when the writable mounts went over their quota and the run was stopped for it.
    disk_exceeded: dict | None = None
    # Bytes of output dropped past the cap, per stream; peak disk use of the writable mounts.
    output_dropped: dict = field(default_factory=dict)
    disk_peak_mb: float | None = None
    # What ran the command, beyond the runner's name (a container's image id and digests).
    identity: dict = field(default_factory=dict)
    # What the run used (``metering``): cpu_seconds, peak_memory_mb, gpu_hours, gpus.
    metering: dict = field(default_factory=dict)


class SandboxUnavailable(RuntimeError):
    """The requested runner cannot run on this host."""


class SandboxError(ValueError):
    """The run was described wrongly (mounts, working directory)."""


@dataclass(frozen=True)
class Command:
    """One run as a runner is asked for it: the command line, mounts, whole environment, limits
    and working directory (as ``agent_view`` made them), the Python environment it gets, and the
    harness's own (which runs the validator and the gateway's launcher, whatever the agent's)."""

    argv: list[str]
    mounts: Sequence[Mount]
    env: dict[str, str]
    limits: Limits
    workdir: str
    python_env: Path
    harness_env: Path | None = None


@dataclass
class Launch:
    """What a runner starts: the command line, its environment and folder, the descriptors it
    inherits, and those the harness itself holds while the run lasts (all closed by the harness
    once the run is over)."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    pass_fds: list[int] = field(default_factory=list)
    held_fds: list[int] = field(default_factory=list)
    # Where the sandbox's guard reports what it metered (one of held_fds), if it is started.
    report_fd: int | None = None


def host_path(path: str, mounts: Sequence[Mount]) -> Path:
    """The host path that ``path`` inside the sandbox refers to (what runner "none" sees)."""
    inside = PurePosixPath(path)
    for m in sorted(mounts, key=lambda m: -len(PurePosixPath(m.target).parts)):
        target = PurePosixPath(m.target)
        if inside == target or target in inside.parents:
            return Path(m.source) / inside.relative_to(target)
    return Path(path)


@dataclass(frozen=True)
class AgentView:
    """Where an agent finds things, for one runner: the one mapping of sandbox paths.

    Where the runner gives the command its own file system view, every path is what it says.
    Where it runs the command on the host (``translates``), a sandbox path becomes the host path
    behind the mount that holds it (the deepest one), so one agent, command line and set of
    instructions work under every runner. ``folders`` are host folders standing for sandbox
    folders that are no mount themselves but hold mounts (bubblewrap builds /home from the
    mounts below it); only translation uses them, and no runner binds them.
    """

    mounts: tuple[Mount, ...]
    folders: tuple[Mount, ...] = ()
    translates: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "mounts", tuple(self.mounts))
        object.__setattr__(self, "folders", tuple(self.folders))

    def path(self, inside: str) -> str:
        """The path the agent is given for sandbox path ``inside`` (absolute on the host)."""
        if not self.translates:
            return inside
        return os.path.abspath(host_path(inside, (*self.mounts, *self.folders)))

    def text(self, text: str) -> str:
        """``text`` with each sandbox path in it translated: whole mount targets only, also
        inside an argument (``--data=/home/data``, ``sh -c "cd /home/code && ..."``)."""
        if not self.translates:
            return text
        targets = {m.target.rstrip("/") for m in (*self.mounts, *self.folders)}
        if not targets:
            return text
        # Longest first, and never part of a longer name: /home/agentx is not /home/agent.
        alternatives = "|".join(re.escape(t) for t in sorted(targets, key=len, reverse=True))
        pattern = rf"(?<![\w./~-])(?:{alternatives})(?![\w.~-])"
        return re.sub(pattern, lambda m: self.path(m.group(0)), text)

    def argv(self, argv: Sequence[str]) -> list[str]:
        return [self.text(arg) for arg in argv]

    def workdir(self, inside: str) -> str:
        """The working directory to give the runner for sandbox folder ``inside``."""
        if not PurePosixPath(inside).is_absolute():
            raise SandboxError(f"working directory {inside!r} must be an absolute path")
        folder = self.path(inside)
        if self.translates and not Path(folder).is_dir():
            raise SandboxError(
                f"working directory {inside} is neither inside a mount nor a folder on this host"
            )
        return folder


class Runner(ABC):
    """One way of running an agent process; ``run`` takes it through every step."""

    name: ClassVar[str]
    # The command sees the host's file system: it is given host paths (see AgentView).
    host_paths: ClassVar[bool] = False
    # The run's processes are all in its cgroup (a container engine's are not).
    run_in_cgroup: ClassVar[bool] = True
    # Without a cgroup, CPU time is the harness's reaped children's: right where the run's
    # processes are its descendants and every one of them is reaped up the tree.
    descendants_metered: ClassVar[bool] = True

    @classmethod
    def check(cls) -> None:
        """Raise SandboxUnavailable, saying what to do, unless this runner can run here."""
        return None

    # --- preparing the run --------------------------------------------------------------------

    def agent_view(self, mounts: Sequence[Mount], folders: Sequence[Mount] = ()) -> AgentView:
        """The paths the agent is given for these mounts (see AgentView)."""
        return AgentView(tuple(mounts), tuple(folders), translates=self.host_paths)

    def prepare_mounts(self, mounts: Sequence[Mount]) -> None:
        """Refuse mounts the runner would fail on; create missing writable sources."""
        for m in mounts:
            target = PurePosixPath(m.target)
            if not target.is_absolute() or ".." in target.parts or str(target) == "/":
                raise SandboxError(f"mount target {m.target!r} must be an absolute path below /")
            if any(str(target) == r or str(target).startswith(r + "/") for r in _RESERVED_TARGETS):
                raise SandboxError(
                    f"mount target {m.target!r} lies in {target.parts[1]!r}, which "
                    "the sandbox provides itself; choose another target"
                )
            source = Path(m.source)
            if m.writable and not source.exists():
                source.mkdir(parents=True)
            if not source.exists():
                raise SandboxError(f"mount source {source} does not exist (for target {m.target})")
            if m.writable:
                self.prepare_writable(source)

    def prepare_writable(self, source: Path) -> None:
        """Make the writable mount ``source`` writable for the command."""
        return None

    @abstractmethod
    def home(self) -> str:
        """The command's HOME."""

    def environment(
        self, env: Mapping[str, str], limits: Limits, python_env: Path
    ) -> dict[str, str]:
        """The whole environment of the run: a minimal base, then ``env``, then the GPU choice."""
        result = {
            "PATH": f"{python_env / 'bin'}:{SYSTEM_PATH}",
            "HOME": self.home(),
            "LANG": "C.UTF-8",
        }
        result.update(env)
        # The assignment, not the caller's environment, decides which GPUs the run may use.
        result["CUDA_VISIBLE_DEVICES"] = ",".join(limits.gpus)
        if limits.gpus:
            result["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"
        return result

    @abstractmethod
    def isolation(self, limits: Limits, workdir: str) -> tuple[dict[str, str | None], list[str]]:
        """What the runner enforces itself (network, filesystem, gpus) and notes on it; raises
        SandboxError where ``workdir`` cannot be used."""

    # --- starting and stopping ----------------------------------------------------------------

    @abstractmethod
    def launch(self, command: Command, notes: list[str]) -> Launch:
        """What to start for ``command``; notes on the set-up go to ``notes``."""

    def spared_on_term(self, proc: subprocess.Popen) -> tuple[int, ...]:
        """Processes that SIGTERM must not reach (they would end the run before its grace)."""
        return ()

    def signal_untracked(
        self, proc: subprocess.Popen, cg: cgroups.RunCgroup, sig: int, exclude: tuple[int, ...]
    ) -> None:
        """Signal the run's processes that its cgroup may not hold."""
        return None

    def stop(self, proc: subprocess.Popen, cg: cgroups.RunCgroup, grace: float) -> None:
        """SIGTERM everything in the run, then after ``grace`` seconds SIGKILL it."""
        if grace > 0:
            self.signal_run(proc, cg, signal.SIGTERM, exclude=self.spared_on_term(proc))
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        self.signal_run(proc, cg, signal.SIGKILL, exclude=())
        proc.wait()

    def signal_run(
        self, proc: subprocess.Popen, cg: cgroups.RunCgroup, sig: int, exclude: tuple[int, ...]
    ) -> None:
        if proc.returncode is None and proc.pid not in exclude:
            try:
                proc.send_signal(sig)
            except ProcessLookupError:
                pass
        self.signal_untracked(proc, cg, sig, exclude)
        cg.signal_all(sig, exclude=exclude)

    def kill_leftovers(self, proc: subprocess.Popen, cg: cgroups.RunCgroup) -> None:
        """Processes the command left running do not outlive the run."""
        cg.signal_all(signal.SIGKILL)

    # --- the result ---------------------------------------------------------------------------

    def decode_status(self, returncode: int) -> tuple[int | None, int | None]:
        """(exit code, signal) of the started process's exit status."""
        if returncode < 0:
            return None, -returncode
        return returncode, None

    def identity_fields(self) -> dict:
        """What identifies this runner's means of isolation in the run record."""
        return {}

    def oom_killed(self, cg: cgroups.RunCgroup) -> bool:
        """Whether the kernel OOM-killed anything in the run."""
        return cg.oom_killed()

    def usage(self, cg: cgroups.RunCgroup) -> tuple[float | None, float | None]:
        """CPU-seconds and peak memory (MB) of the finished run, None where unmeasured: its
        cgroup's, where every process of the run is in it (orphans included)."""
        if not self.run_in_cgroup:
            return None, None
        return cg.cpu_seconds(), metering.peak_memory_mb(cg.memory_dir, cg.memory_version)

    def bytes_written(self) -> tuple[int | None, str | None]:
        """Bytes the finished run wrote, where the runner meters them itself (no guard, and
        processes not reaped up to the harness), and else a note on why not; (None, None)
        leaves it to the guard's report or the harness's reaped children."""
        return None, None

    def result_notes(self, exit_code: int | None, stderr: Path) -> list[str]:
        """Notes on a finished run taken from what the runner itself reported."""
        return []

    # --- all steps ----------------------------------------------------------------------------

    def run(
        self,
        argv: list[str],
        *,
        mounts: list[Mount],
        env: dict[str, str],
        limits: Limits,
        workdir: str,
        stdout: Path,
        stderr: Path,
        python_env: Path | None = None,
        stop: threading.Event | None = None,
    ) -> SandboxResult:
        """Run ``argv`` until it exits or ``limits.wall_seconds`` pass.

        ``argv``, ``env`` and ``workdir`` are used as given: what ``agent_view`` made of the
        sandbox paths. ``python_env`` (default: the environment of the running interpreter) is
        made available read-only so that its ``python`` and console scripts work inside, first
        on PATH; the running interpreter's environment is made available too, at its own path
        (``sys.executable`` works inside), for the harness's helpers in the sandbox. Setting
        ``stop`` ends the run early, as the time limit does (e.g. its model gateway failed).
        """
        self.check()
        if not argv:
            raise SandboxError("nothing to run: the command line is empty")
        self.prepare_mounts(mounts)
        if not PurePosixPath(workdir).is_absolute():
            raise SandboxError(f"working directory {workdir!r} must be an absolute path")
        env_prefix = _python_prefix(python_env)
        enforced: dict[str, str | None] = {
            "wall_seconds": "harness",
            "memory_mb": None,
            "cpus": None,
            "pids": None,
            "gpus": None,
            "network": None,
            "filesystem": None,
            "disk_mb": None,
            "output_mb": None,
        }
        run_env = self.environment(env, limits, env_prefix)
        own_enforced, notes = self.isolation(limits, workdir)

        cgroups.remove_stale_run_cgroups()
        cg = cgroups.create_run_cgroup(limits.memory_mb, limits.cpus, limits.pids)
        enforced.update(cg.enforced)
        enforced.update(own_enforced)  # what the runner enforces itself says how, first
        notes.extend(cg.notes)
        if not cg.dirs:
            notes.append("processes that leave the session cannot be tracked without a cgroup")
        writable = [Path(m.source) for m in mounts if m.writable]
        # Scanned with or without a quota: what the run keeps on disk is metered too.
        watch = quota.DiskWatch(writable, limits.disk_mb) if writable else None
        if watch and limits.disk_mb:
            enforced["disk_mb"] = "harness (scanned) and RLIMIT_FSIZE"
            free = quota.free_mb(writable[0])
            if free is not None and free < limits.disk_mb:
                notes.append(
                    f"the file system of {writable[0]} has {free:.0f} MB free, less than the "
                    f"run's disk quota of {limits.disk_mb} MB"
                )
        if limits.output_mb:
            enforced["output_mb"] = "harness (captured)"
        launch = None
        try:
            command = Command(
                argv, mounts, run_env, limits, workdir, env_prefix, _python_prefix(None)
            )
            launch = self.launch(command, notes)
            gpu_sampler = metering.GpuSampler(limits.gpus).start()
            children_before = metering.children_usage()
            started = time.monotonic()
            try:
                proc, ending, dropped = self._supervise(
                    launch, stdout, stderr, cg, limits, watch, stop
                )
            finally:
                gpu_sampler.stop()
            wall = time.monotonic() - started
            cpu, peak_memory = self.usage(cg)
            guarded = launch.report_fd is not None
            report = metering.read_guard_report(launch.report_fd) if guarded else None
            children = metering.children_usage()
            written, written_note = self._bytes_written(guarded, report, children_before, children)
            if written_note:
                notes.append(written_note)
            if cpu is None and guarded:
                cpu = report.cpu_seconds if report else None
            elif cpu is None and self.run_in_cgroup and self.descendants_metered:
                cpu = children[0] - children_before[0]
            used = {
                "cpu_seconds": round(cpu, 2) if cpu is not None else None,
                "peak_memory_mb": peak_memory,
                "disk_written_mb": round(written / quota.MB, 3) if written is not None else None,
                **gpu_sampler.fields(wall),
            }
            if gpu_sampler.note:
                notes.append(gpu_sampler.note)
            oom = self.oom_killed(cg)
        finally:
            for fd in (*launch.pass_fds, *launch.held_fds) if launch else ():
                os.close(fd)
            cg.remove()
        if watch and not watch.exceeded:
            watch.check()  # what the run left behind counts too
        if watch:
            # To the kB: a small run's submission and logs are well under 0.1 MB.
            used.update(
                disk_used_peak_mb=round(watch.peak / quota.MB, 3),
                disk_used_end_mb=round(watch.last / quota.MB, 3),
            )
        exit_code, sig = self.decode_status(proc.returncode)
        notes.extend(self.result_notes(exit_code, stderr))
        if dropped:
            notes.append(
                "output over the cap of {} MB per stream was dropped: {}".format(
                    limits.output_mb, ", ".join(f"{k} {v} bytes" for k, v in dropped.items())
                )
            )
        if ending == "stopped":
            notes.append("stopped by the harness before its time limit")
        return SandboxResult(
            runner=self.name,
            exit_code=exit_code,
            signal=sig,
            timed_out=ending == "timeout",
            oom_killed=oom,
            wall_seconds=wall,
            enforced=enforced,
            notes=notes,
            disk_exceeded=watch.exceeded if watch else None,
            output_dropped=dropped,
            disk_peak_mb=round(watch.peak / quota.MB, 1) if watch and limits.disk_mb else None,
            identity=self.identity_fields(),
            metering=used,
        )

    def _bytes_written(
        self,
        guarded: bool,
        report: metering.GuardReport | None,
        children_before: tuple[float, int],
        children_after: tuple[float, int],
    ) -> tuple[int | None, str | None]:
        """The finished run's bytes written, and a note where they were not measured: the
        runner's own figure, else the guard's report, else the harness's reaped children's."""
        written, note = self.bytes_written()
        if written is not None or note:
            return written, note
        if guarded:
            if report is None:
                return None, (
                    "disk written not measured: the sandbox's guard was killed before it could "
                    "report (the agent outlived its grace after SIGTERM)"
                )
            return report.bytes_written, None
        if self.descendants_metered:
            return children_after[1] - children_before[1], None
        return None, "disk written not measured by this runner"

    def _supervise(
        self,
        launch: Launch,
        stdout: Path,
        stderr: Path,
        cg: cgroups.RunCgroup,
        limits: Limits,
        watch: quota.DiskWatch | None,
        stop: threading.Event | None = None,
    ) -> tuple[subprocess.Popen, str, dict[str, int]]:
        """Start ``launch`` in the run's cgroup and wait for it, within the time limit and the
        disk quota; returns the process, how it ended ("exited", "timeout", "disk-quota", or
        "stopped": ``stop`` was set), and the output dropped per stream."""
        procs_fds = cg.open_procs_files()
        set_pdeathsig = _pdeathsig_setter()

        def enter_cgroup() -> None:
            # Runs in the child before exec: everything it starts is then in the run's cgroup.
            for fd in procs_fds:
                os.write(fd, b"0")
            quota.limit_file_size(limits.disk_mb)
            set_pdeathsig()

        stdout.parent.mkdir(parents=True, exist_ok=True)
        stderr.parent.mkdir(parents=True, exist_ok=True)
        cap = limits.output_mb * quota.MB if limits.output_mb else None
        captures = {"stdout": quota.OutputCapture(stdout, cap)}
        same = os.path.abspath(stderr) == os.path.abspath(stdout)
        captures["stderr"] = captures["stdout"] if same else quota.OutputCapture(stderr, cap)
        try:
            try:
                proc = subprocess.Popen(
                    launch.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=captures["stdout"].write_fd,
                    stderr=captures["stderr"].write_fd,
                    env=launch.env,
                    cwd=launch.cwd,
                    start_new_session=True,
                    pass_fds=launch.pass_fds,
                    preexec_fn=enter_cgroup,
                )
            except subprocess.SubprocessError as exc:
                raise SandboxUnavailable(f"could not start the run in its cgroup: {exc}") from exc
            except OSError as exc:
                raise SandboxError(f"cannot start {launch.argv[0]!r}: {exc.strerror}") from exc
            finally:
                for fd in procs_fds:
                    os.close(fd)
                for capture in captures.values():
                    capture.parent_done()
            try:
                ending = self._wait(proc, cg, limits, watch, stop)
            except BaseException:
                self.stop(proc, cg, 0)
                raise
            self.kill_leftovers(proc, cg)
        finally:
            for capture in set(captures.values()):
                capture.finish()
        dropped = {name: c.dropped for name, c in captures.items() if c.dropped}
        if same and dropped:
            dropped = {"stdout+stderr": captures["stdout"].dropped}
        return proc, ending, dropped

    def _wait(
        self,
        proc: subprocess.Popen,
        cg: cgroups.RunCgroup,
        limits: Limits,
        watch: quota.DiskWatch | None,
        stop: threading.Event | None,
    ) -> str:
        """Wait for the run to end, looking at ``stop`` every 0.2 s and at the disk quota every
        ``watch.interval``; stops the run at its time limit ("timeout"), over its quota
        ("disk-quota") or once ``stop`` is set ("stopped"). "exited" when it ended by itself."""
        deadline = time.monotonic() + limits.wall_seconds
        next_scan = time.monotonic() + watch.interval if watch else float("inf")
        while True:
            now = time.monotonic()
            wake = min(deadline, next_scan, now + 0.2 if stop is not None else float("inf"))
            try:
                proc.wait(timeout=max(0.0, wake - now))
                return "exited"
            except subprocess.TimeoutExpired:
                pass
            ending = None
            if stop is not None and stop.is_set():
                ending = "stopped"
            elif time.monotonic() >= deadline:
                ending = "timeout"
            elif watch and time.monotonic() >= next_scan:
                if watch.check():
                    ending = "disk-quota"
                next_scan = time.monotonic() + watch.interval
            if ending:
                # Over its quota the run is killed at once: a grace period would let it write on.
                self.stop(proc, cg, 0 if ending == "disk-quota" else limits.grace_seconds)
                return ending


def _python_prefix(python_env: Path | None) -> Path:
    """The folder of the Python environment the command gets (default: the running one)."""
    prefix = Path(os.path.abspath(python_env if python_env is not None else sys.prefix))
    if not (prefix / "bin").is_dir():
        raise SandboxError(
            f"Python environment {prefix} has no bin/ folder: give the "
            "folder of a venv or conda environment"
        )
    return prefix


def _pdeathsig_setter() -> Callable[[], None]:
    """A function that makes the calling process die when its parent does (Linux prctl)."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return lambda: None
    pr_set_pdeathsig = 1
    return lambda: prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)


def kill_quietly(pid: int, sig: int, group: bool = False) -> None:
    """Signal a process (or its process group) that may be gone or no longer ours."""
    try:
        (os.killpg if group else os.kill)(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


# --- the runners by name ----------------------------------------------------------------------
