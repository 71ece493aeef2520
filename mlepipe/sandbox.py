"""Run one agent process in a sandbox, with a wall-clock limit and per-run cgroup limits.

Two runners:

* ``bubblewrap``: the process runs in fresh namespaces (user, mount, PID, network, IPC, UTS,
  cgroup) as uid/gid 1000 with no capabilities. It sees read-only /usr, a minimal /etc, the
  Python environment, a private /tmp and home, and only the mounts it is given; no network.
  The caller's uid is mapped to uid 1000, so writable mounts owned by the caller are writable.
* ``none``: the process runs directly on the host (no isolation), still under the wall-clock
  limit and the cgroup limits. There is no mount namespace, so the caller describes the run
  through an ``AgentView``: every sandbox path the agent is given (command line, environment,
  working directory, texts) becomes the host path behind its mount, and the same agent works
  unchanged under both runners. Results say ``runner == "none"`` so that reports can mark
  such runs.

The harness enforces the wall-clock limit itself and never depends on a TTY or systemd, so it
behaves the same under Slurm. Output streams go straight to files.

If the harness is killed, bubblewrap's die-with-parent takes the sandbox down. bubblewrap arms
it for the sandbox's PID 1 only once the sandbox is set up (some 30 ms after start); a harness
killed within that window leaves the sandbox running, and the next run's clean-up of stale
cgroups (``cgroups.remove_stale_run_cgroups``) kills it. With runner "none" only the direct
child dies with the harness; the stale-cgroup clean-up takes care of the rest.
"""

from __future__ import annotations

import ast
import ctypes
import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from mlepipe import cgroups

RUNNERS = ("bubblewrap", "none")
SANDBOX_UID = 1000
SANDBOX_USER = "sandbox"
SANDBOX_HOME = "/home/sandbox"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

OPT_OUT_HINT = (
    "opt out of isolation with `sandbox: none` in the configuration (such runs are reported "
    "as unsandboxed)"
)
INSTALL_HINT = (
    "install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`; Fedora/RHEL: "
    f"`dnf install bubblewrap`), or {OPT_OUT_HINT}"
)
# Host files an ordinary program expects in /etc; none of them holds secrets.
HOST_ETC = (
    "/etc/ssl/certs",
    "/etc/ssl/openssl.cnf",
    "/etc/pki/tls/certs",
    "/etc/ca-certificates",
    "/etc/alternatives",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/mime.types",
)
GPU_CONTROL_DEVICES = ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset")
# Mount targets that would land on something the sandbox itself provides read-only.
_RESERVED_TARGETS = ("/usr", "/proc", "/dev", "/sys")
_ISOLATION = (
    "--unshare-all",
    "--unshare-user",
    "--uid",
    str(SANDBOX_UID),
    "--gid",
    str(SANDBOX_UID),
    "--cap-drop",
    "ALL",
    "--die-with-parent",
    "--new-session",
    "--clearenv",
)


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


class SandboxUnavailable(RuntimeError):
    """The requested runner cannot run on this host."""


class SandboxError(ValueError):
    """The run was described wrongly (mounts, working directory)."""


def check_runner(runner: str) -> None:
    """Raise SandboxUnavailable, saying what to do, unless ``runner`` can run here."""
    if runner == "none":
        return
    if runner != "bubblewrap":
        raise SandboxUnavailable(
            f"unknown sandbox runner {runner!r}: use one of {', '.join(RUNNERS)}"
        )
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable(f"bubblewrap (`bwrap`) is not on PATH: {INSTALL_HINT}")
    problem = _bwrap_probe(bwrap)
    if problem:
        raise SandboxUnavailable(
            f"bubblewrap is installed but cannot create a sandbox here ({problem}); allow "
            "unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, "
            f"user.max_user_namespaces > 0), or {OPT_OUT_HINT}"
        )


@functools.lru_cache(maxsize=4)
def _bwrap_probe(bwrap: str) -> str:
    """Start an empty sandbox once per process; returns bubblewrap's complaint, if any."""
    cmd = [bwrap, *_ISOLATION, "--ro-bind", "/usr", "/usr", *_root_links(), "--", "/usr/bin/true"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode == 0:
        return ""
    return done.stderr.strip() or f"exit status {done.returncode}"


def run_sandboxed(
    argv: list[str],
    *,
    mounts: list[Mount],
    env: dict[str, str],
    limits: Limits,
    workdir: str,
    stdout: Path,
    stderr: Path,
    runner: str = "bubblewrap",
    python_env: Path | None = None,
) -> SandboxResult:
    """Run ``argv`` under ``runner`` until it exits or ``limits.wall_seconds`` pass.

    ``argv``, ``env`` and ``workdir`` are used as given: sandbox paths under bubblewrap, host
    paths under runner "none" (``AgentView`` turns the one into the other). ``python_env``
    (default: the environment of the running interpreter) is made available read-only so that
    its ``python`` and console scripts work inside.
    """
    check_runner(runner)
    if not argv:
        raise SandboxError("nothing to run: the command line is empty")
    _check_mounts(mounts, runner)
    if not PurePosixPath(workdir).is_absolute():
        raise SandboxError(f"working directory {workdir!r} must be an absolute path")
    env_prefix = Path(os.path.abspath(python_env if python_env is not None else sys.prefix))
    if not (env_prefix / "bin").is_dir():
        raise SandboxError(
            f"Python environment {env_prefix} has no bin/ folder: give the "
            "folder of a venv or conda environment"
        )
    notes: list[str] = []
    enforced: dict[str, str | None] = {
        "wall_seconds": "harness",
        "memory_mb": None,
        "cpus": None,
        "pids": None,
        "gpus": None,
        "network": None,
        "filesystem": None,
    }
    run_env = sandbox_env(env, limits, env_prefix, runner)
    if runner == "none":
        cwd = _host_folder(workdir)
        enforced["gpus"] = "CUDA_VISIBLE_DEVICES" if limits.gpus else None
        notes.append(
            "runner none: no isolation; the command sees the host file system and "
            "network, and is given the host paths behind the mounts"
        )
    else:
        enforced.update(
            network="namespace",
            filesystem="bubblewrap",
            gpus="device-binding" if limits.gpus else None,
        )

    cgroups.remove_stale_run_cgroups()
    cg = cgroups.create_run_cgroup(limits.memory_mb, limits.cpus, limits.pids)
    enforced.update(cg.enforced)
    notes.extend(cg.notes)
    if not cg.dirs:
        notes.append("processes that leave the session cannot be tracked without a cgroup")
    pass_fds: list[int] = []
    try:
        if runner == "bubblewrap":
            etc_fds = _data_pipes(sandbox_etc_files())
            pass_fds = list(etc_fds.values())
            cmd = bwrap_command(
                argv,
                mounts=mounts,
                env=run_env,
                limits=limits,
                workdir=workdir,
                python_env=env_prefix,
                data_fds=etc_fds,
                notes=notes,
            )
            popen_env: dict[str, str] = {}
            cwd = "/"
        else:
            cmd, popen_env = list(argv), run_env
        started = time.monotonic()
        proc, timed_out = _run(cmd, popen_env, cwd, stdout, stderr, pass_fds, cg, limits, runner)
        wall = time.monotonic() - started
        oom = cg.oom_killed()
    finally:
        for fd in pass_fds:
            os.close(fd)
        cg.remove()
    exit_code, sig = _decode_status(proc.returncode, runner)
    if runner == "bubblewrap" and exit_code == 1:
        notes.extend(_bwrap_complaint(stderr))
    return SandboxResult(
        runner=runner,
        exit_code=exit_code,
        signal=sig,
        timed_out=timed_out,
        oom_killed=oom,
        wall_seconds=wall,
        enforced=enforced,
        notes=notes,
    )


def _run(
    cmd: list[str],
    env: dict[str, str],
    cwd: str,
    stdout: Path,
    stderr: Path,
    pass_fds: list[int],
    cg: cgroups.RunCgroup,
    limits: Limits,
    runner: str,
) -> tuple[subprocess.Popen, bool]:
    procs_fds = cg.open_procs_files()
    set_pdeathsig = _pdeathsig_setter()

    def enter_cgroup() -> None:
        # Runs in the child before exec: everything it starts is then in the run's cgroup.
        for fd in procs_fds:
            os.write(fd, b"0")
        set_pdeathsig()

    stdout.parent.mkdir(parents=True, exist_ok=True)
    stderr.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(stdout, "wb") as out, _open_err(stderr, stdout, out) as err:
            try:
                proc = subprocess.Popen(
                    cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    env=env,
                    cwd=cwd,
                    start_new_session=True,
                    pass_fds=pass_fds,
                    preexec_fn=enter_cgroup,
                )
            except subprocess.SubprocessError as exc:
                raise SandboxUnavailable(f"could not start the run in its cgroup: {exc}") from exc
            except OSError as exc:
                raise SandboxError(f"cannot start {cmd[0]!r}: {exc.strerror}") from exc
    finally:
        for fd in procs_fds:
            os.close(fd)
    try:
        proc.wait(timeout=limits.wall_seconds)
        timed_out = False
    except subprocess.TimeoutExpired:
        timed_out = True
        _stop(proc, cg, runner, limits.grace_seconds)
    except BaseException:
        _stop(proc, cg, runner, 0)
        raise
    _kill_leftovers(proc, cg, runner)
    return proc, timed_out


class _open_err:
    """The stderr file, or the stdout file object again when both paths are the same."""

    def __init__(self, stderr: Path, stdout: Path, out: object) -> None:
        self.same = os.path.abspath(stderr) == os.path.abspath(stdout)
        self.path, self.out, self.f = stderr, out, None

    def __enter__(self):
        if self.same:
            return self.out
        self.f = open(self.path, "wb")
        return self.f

    def __exit__(self, *exc: object) -> None:
        if self.f is not None:
            self.f.close()


def _stop(proc: subprocess.Popen, cg: cgroups.RunCgroup, runner: str, grace: float) -> None:
    """SIGTERM everything in the run, then after ``grace`` seconds SIGKILL it."""
    if grace > 0:
        # The outer bubblewrap process is left alone here: it would take the sandbox with it.
        spare = (proc.pid,) if runner == "bubblewrap" else ()
        _signal_run(proc, cg, runner, signal.SIGTERM, exclude=spare)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    # Killing the outer bubblewrap kills the sandbox's PID 1, and with it every process of
    # the PID namespace, setsid'd ones included.
    _signal_run(proc, cg, runner, signal.SIGKILL, exclude=())
    proc.wait()


def _kill_leftovers(proc: subprocess.Popen, cg: cgroups.RunCgroup, runner: str) -> None:
    """Processes the command left running (runner none) do not outlive the run."""
    if runner == "none":
        _killpg(proc.pid, signal.SIGKILL)
    cg.signal_all(signal.SIGKILL)


def _signal_run(
    proc: subprocess.Popen, cg: cgroups.RunCgroup, runner: str, sig: int, exclude: tuple[int, ...]
) -> None:
    if proc.returncode is None and proc.pid not in exclude:
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            pass
    if runner == "none":
        _killpg(proc.pid, sig)
    elif not cg.dirs:
        for pid in _pid_namespace_members(proc.pid) - set(exclude):
            _kill(pid, sig)
    cg.signal_all(sig, exclude=exclude)


def _pid_namespace_members(outer: int) -> set[int]:
    """Host PIDs of the processes in the PID namespace bubblewrap process ``outer`` made."""
    try:
        children = Path(f"/proc/{outer}/task/{outer}/children").read_text().split()
        namespace = os.readlink(f"/proc/{children[0]}/ns/pid")
    except (OSError, IndexError):
        return set()
    members = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "ns" / "pid") == namespace:
                    members.add(int(entry.name))
            except OSError:
                continue
    return members


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _pdeathsig_setter() -> Callable[[], None]:
    """A function that makes the calling process die when its parent does (Linux prctl)."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return lambda: None
    pr_set_pdeathsig = 1
    return lambda: prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)


def _decode_status(returncode: int, runner: str) -> tuple[int | None, int | None]:
    """(exit code, signal); bubblewrap reports a signal N as exit status 128 + N."""
    if returncode < 0:
        return None, -returncode
    if runner == "bubblewrap" and 128 < returncode <= 128 + 64:
        return None, returncode - 128
    return returncode, None


def _bwrap_complaint(stderr: Path) -> list[str]:
    try:
        with open(stderr, "rb") as f:
            first = f.readline(500).decode(errors="replace").strip()
    except OSError:
        return []
    return [f"bubblewrap reported: {first}"] if first.startswith("bwrap:") else []


# --- the bubblewrap command line --------------------------------------------------------------


def bwrap_command(
    argv: list[str],
    *,
    mounts: list[Mount],
    env: Mapping[str, str],
    limits: Limits,
    workdir: str,
    python_env: Path,
    data_fds: Mapping[str, int],
    notes: list[str] | None = None,
) -> list[str]:
    """The bwrap command line; ``data_fds`` maps /etc files to descriptors holding them."""
    notes = notes if notes is not None else []
    bwrap = shutil.which("bwrap") or "bwrap"
    cmd = [
        bwrap,
        *_ISOLATION,
        "--hostname",
        "sandbox",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
        "--ro-bind",
        "/usr",
        "/usr",
        *_root_links(),
        "--dir",
        "/etc",
    ]
    for target, fd in data_fds.items():
        cmd += ["--perms", "0644", "--ro-bind-data", str(fd), target]
    for path in HOST_ETC:
        if os.path.lexists(path):
            cmd += ["--ro-bind-try", path, path]  # -try: a dangling link is skipped
    cmd += ["--tmpfs", SANDBOX_HOME]
    env_paths, env_notes = python_env_paths(python_env)
    notes.extend(env_notes)
    for path in env_paths:
        cmd += ["--ro-bind", str(path), str(path)]
    gpu_args, gpu_notes = gpu_bind_args(limits.gpus)
    cmd += gpu_args
    notes.extend(gpu_notes)
    for m in mounts:
        cmd += ["--bind" if m.writable else "--ro-bind", os.path.abspath(m.source), m.target]
    # Last, so that only /tmp, the home folder and writable mounts take writes.
    cmd += ["--remount-ro", "/"]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    cmd += ["--chdir", workdir, "--", *argv]
    return cmd


def _root_links() -> list[str]:
    """/bin, /lib, ... as on the host: symlinks into /usr (merged /usr) or read-only binds."""
    args: list[str] = []
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = Path("/") / name
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir():
            args += ["--ro-bind", str(host), str(host)]
    return args


def sandbox_etc_files() -> dict[str, bytes]:
    """Generated /etc files: the sandbox user exists, localhost resolves, nothing else."""
    uid = SANDBOX_UID
    return {
        "/etc/passwd": (
            "root:x:0:0:root:/root:/usr/sbin/nologin\n"
            f"{SANDBOX_USER}:x:{uid}:{uid}:{SANDBOX_USER}:{SANDBOX_HOME}:/bin/sh\n"
            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        ).encode(),
        "/etc/group": f"root:x:0:\n{SANDBOX_USER}:x:{uid}:\nnogroup:x:65534:\n".encode(),
        "/etc/hosts": b"127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost\n",
        "/etc/hostname": b"sandbox\n",
        "/etc/nsswitch.conf": b"passwd: files\ngroup: files\nhosts: files\n",
    }


def _data_pipes(files: Mapping[str, bytes]) -> dict[str, int]:
    """One pipe per file, filled and closed for writing; bubblewrap reads the other end."""
    fds = {}
    for target, data in files.items():
        read_end, write_end = os.pipe()
        os.write(write_end, data)  # far below the pipe buffer, so this never blocks
        os.close(write_end)
        fds[target] = read_end
    return fds


def gpu_bind_args(gpus: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """bwrap arguments binding only the assigned GPUs' devices; notes on what is missing."""
    if not gpus:
        return [], []
    args: list[str] = []
    notes: list[str] = []
    for name in GPU_CONTROL_DEVICES:
        args += ["--dev-bind-try", f"/dev/{name}", f"/dev/{name}"]
    if all(g.isdigit() for g in gpus):
        devices = [f"/dev/nvidia{g}" for g in gpus]
    else:
        # UUIDs or MIG names cannot be mapped to a device file: bind all GPUs and let
        # CUDA_VISIBLE_DEVICES pick.
        devices = sorted(str(p) for p in Path("/dev").glob("nvidia[0-9]*"))
        notes.append(
            f"GPUs {', '.join(gpus)} are not indices: all GPU devices are bound and "
            "only CUDA_VISIBLE_DEVICES selects them"
        )
    for dev in devices:
        args += ["--dev-bind-try", dev, dev]
        if not os.path.exists(dev):
            notes.append(f"GPU device {dev} is assigned but does not exist on this host")
    args += ["--dev-bind-try", "/dev/nvidia-caps", "/dev/nvidia-caps"]
    # NVML reads the PCI topology from /sys.
    args += ["--ro-bind", "/sys", "/sys"]
    return args, notes


def sandbox_env(
    env: Mapping[str, str], limits: Limits, python_env: Path, runner: str
) -> dict[str, str]:
    """The whole environment of the run: a minimal base, then ``env``, then the GPU choice."""
    home = SANDBOX_HOME if runner == "bubblewrap" else os.environ.get("HOME", "/tmp")
    result = {"PATH": f"{python_env / 'bin'}:{SYSTEM_PATH}", "HOME": home, "LANG": "C.UTF-8"}
    result.update(env)
    # The assignment, not the caller's environment, decides which GPUs the run may use.
    result["CUDA_VISIBLE_DEVICES"] = ",".join(limits.gpus)
    if limits.gpus:
        result["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"
    return result


# --- the Python environment -------------------------------------------------------------------


def python_env_paths(python_env: Path) -> tuple[list[Path], list[str]]:
    """Host folders to bind read-only (at the same path) so ``python_env`` works inside.

    A venv needs its base interpreter (``home`` in pyvenv.cfg) too; editable installs need the
    source folders their .pth files or finder modules point at.
    """
    paths = [python_env, python_env.resolve()]
    cfg = python_env / "pyvenv.cfg"
    if cfg.is_file():
        values = _read_pyvenv_cfg(cfg)
        if "home" in values:
            paths.append(Path(values["home"]).resolve().parent)
        if "executable" in values:
            paths.append(Path(values["executable"]).resolve().parent.parent)
    for name in ("python3", "python"):
        exe = python_env / "bin" / name
        if exe.exists():
            paths.append(exe.resolve().parent.parent)
            break
    editable = _editable_sources(python_env)
    kept = _outermost(p for p in [*paths, *editable] if not _under(p, Path("/usr")))
    notes = [f"editable install: {p} is bound read-only" for p in kept if p in editable]
    return kept, notes


def _read_pyvenv_cfg(cfg: Path) -> dict[str, str]:
    values = {}
    for line in cfg.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return values


def _editable_sources(python_env: Path) -> list[Path]:
    sources: list[Path] = []
    for site in python_env.glob("lib/python3*/site-packages"):
        for pth in site.glob("*.pth"):
            for line in pth.read_text(errors="replace").splitlines():
                line = line.strip()
                if not line or line.startswith(("#", "import ")):
                    continue
                path = (site / line).resolve()
                if path.is_dir() and not _under(path, python_env):
                    sources.append(path)
        for finder in site.glob("__editable__*finder.py"):
            text = finder.read_text(errors="replace")
            for value in _literal(text, "MAPPING").values():
                sources.append(Path(value))
            for values in _literal(text, "NAMESPACES").values():
                sources += [Path(v) for v in values]
    return [s for s in sources if s.exists()]


def _literal(source: str, name: str) -> dict:
    """The dict literal assigned to ``name`` at the top level of a setuptools finder module."""
    match = re.search(rf"^{name}\s*(?::[^=]*)?=\s*(\{{.*?\}})\s*$", source, re.M | re.S)
    try:
        value = ast.literal_eval(match.group(1)) if match else {}
    except (ValueError, SyntaxError):
        return {}
    return value if isinstance(value, dict) else {}


def _under(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def _outermost(paths) -> list[Path]:
    """Unique paths, dropping any that lies inside another one."""
    unique = sorted(set(paths), key=lambda p: len(p.parts))
    kept: list[Path] = []
    for p in unique:
        if not any(_under(p, k) for k in kept):
            kept.append(p)
    return kept


# --- mounts -------------------------------------------------------------------------------------


def _check_mounts(mounts: list[Mount], runner: str) -> None:
    """Refuse mounts bubblewrap would fail on, and make writable ones usable inside."""
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
        if m.writable and runner == "bubblewrap":
            _make_writable_inside(source)


def _make_writable_inside(source: Path) -> None:
    """Inside, only the caller's own files are writable (the caller's uid becomes uid 1000)."""
    st = source.stat()
    if st.st_uid != os.geteuid():
        raise SandboxError(
            f"writable mount {source} belongs to uid {st.st_uid}, but the sandbox user is the "
            f"caller (uid {os.geteuid()}) mapped to uid {SANDBOX_UID}: create it as this user "
            f"or `chown {os.geteuid()} {source}`"
        )
    if not st.st_mode & 0o200:
        source.chmod(st.st_mode | 0o200)  # owner write bit only


def host_path(path: str, mounts: Sequence[Mount]) -> Path:
    """The host path that ``path`` inside the sandbox refers to (what runner "none" sees)."""
    inside = PurePosixPath(path)
    for m in sorted(mounts, key=lambda m: -len(PurePosixPath(m.target).parts)):
        target = PurePosixPath(m.target)
        if inside == target or target in inside.parents:
            return Path(m.source) / inside.relative_to(target)
    return Path(path)


def _host_folder(workdir: str) -> str:
    """runner none starts the command in a host folder; refuse one that is not there."""
    if not Path(workdir).is_dir():
        raise SandboxError(
            f"working directory {workdir} is not a folder on this host (runner none takes host "
            "paths: AgentView.workdir translates a sandbox path)"
        )
    return workdir


@dataclass(frozen=True)
class AgentView:
    """Where an agent finds things, for one runner: the one mapping of sandbox paths.

    Under bubblewrap every path is what it says. Under runner "none" a sandbox path becomes the
    host path behind the mount that holds it (the deepest one), so one agent, command line and
    set of instructions work under both runners. ``folders`` are host folders standing for
    sandbox folders that are no mount themselves but hold mounts (bubblewrap builds /home from
    the mounts below it); only runner "none" uses them, and bubblewrap never binds them.
    """

    runner: str
    mounts: tuple[Mount, ...]
    folders: tuple[Mount, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "mounts", tuple(self.mounts))
        object.__setattr__(self, "folders", tuple(self.folders))

    @property
    def translates(self) -> bool:
        return self.runner == "none"

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
        """The working directory to give ``run_sandboxed`` for sandbox folder ``inside``."""
        if not PurePosixPath(inside).is_absolute():
            raise SandboxError(f"working directory {inside!r} must be an absolute path")
        folder = self.path(inside)
        if self.translates and not Path(folder).is_dir():
            raise SandboxError(
                f"working directory {inside} is neither inside a mount nor a folder on this host"
            )
        return folder
