"""Runner ``bubblewrap``: the agent process in fresh namespaces.

The process runs in fresh namespaces (user, mount, PID, network, IPC, UTS, cgroup) as uid/gid
1000 with no capabilities. It sees read-only /usr, a minimal /etc, the Python environment (and
the harness's, for its helpers), a private /tmp and home, and only the mounts it is given; no
network. The caller's uid is mapped to uid 1000, so writable mounts owned by the caller are
writable.

If the harness is killed, the sandbox goes down with it. bubblewrap's die-with-parent alone
would leave a window (it is armed only once the sandbox is set up, some 30 ms after start), so
the agent is started by ``guard``, which holds a pipe from the harness and ends the sandbox as
soon as the harness is gone, however early that happens.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mlepipe.harness import cgroups
from mlepipe.harness.agent_files import AgentFileRejected, read_agent_file
from mlepipe.harness.gpus import gpu_device_paths
from mlepipe.harness.pyenv import python_envs_paths
from mlepipe.harness.runner import (
    Command,
    Launch,
    Limits,
    Runner,
    SandboxError,
    SandboxUnavailable,
    kill_quietly,
)

SANDBOX_UID = 1000
SANDBOX_USER = "sandbox"
SANDBOX_HOME = "/home/sandbox"
GUARD_SCRIPT = Path(__file__).with_name("guard.py")
GUARD_MOUNT = "/run/mlepipe/guard.py"

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


class BubblewrapRunner(Runner):
    name = "bubblewrap"
    # The sandbox's init is reaped by no one the harness waits for: without the cgroup, CPU
    # time and bytes written are what the guard reports of the processes it reaped.
    descendants_metered = False

    @classmethod
    def check(cls) -> None:
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

    def prepare_writable(self, source: Path) -> None:
        """Inside, only the caller's own files are writable (the caller's uid becomes uid 1000)."""
        st = source.stat()
        if st.st_uid != os.geteuid():
            raise SandboxError(
                f"writable mount {source} belongs to uid {st.st_uid}, but the sandbox user is "
                f"the caller (uid {os.geteuid()}) mapped to uid {SANDBOX_UID}: create it as "
                f"this user or `chown {os.geteuid()} {source}`"
            )
        if not st.st_mode & 0o200:
            source.chmod(st.st_mode | 0o200)  # owner write bit only

    def home(self) -> str:
        return SANDBOX_HOME

    def isolation(self, limits: Limits, workdir: str) -> tuple[dict[str, str | None], list[str]]:
        enforced = {
            "network": "namespace",
            "filesystem": "bubblewrap",
            "gpus": "device-binding" if limits.gpus else None,
        }
        return enforced, []

    def launch(self, command: Command, notes: list[str]) -> Launch:
        etc_fds = _data_pipes(sandbox_etc_files())
        pipes = GuardPipes.open()
        try:
            cmd = bwrap_command(command, data_fds=etc_fds, notes=notes, guard=pipes)
        except BaseException:
            for fd in etc_fds.values():
                os.close(fd)
            pipes.close()
            raise
        # bubblewrap is given the environment and folder through its own arguments.
        return pipes.launch(cmd, env={}, cwd="/", pass_fds=list(etc_fds.values()))

    def spared_on_term(self, proc: subprocess.Popen) -> tuple[int, ...]:
        # The outer bubblewrap process is left alone: it would take the sandbox with it.
        return (proc.pid,)

    def signal_untracked(
        self, proc: subprocess.Popen, cg: cgroups.RunCgroup, sig: int, exclude: tuple[int, ...]
    ) -> None:
        # Without a cgroup the PID namespace still names every process of the run. Killing the
        # outer bubblewrap kills the sandbox's PID 1, and with it the whole namespace.
        if not cg.dirs:
            for pid in _pid_namespace_members(proc.pid) - set(exclude):
                kill_quietly(pid, sig)

    def decode_status(self, returncode: int) -> tuple[int | None, int | None]:
        """bubblewrap reports a signal N as exit status 128 + N."""
        if 128 < returncode <= 128 + 64:
            return None, returncode - 128
        return super().decode_status(returncode)

    def result_notes(self, exit_code: int | None, stderr: Path) -> list[str]:
        return _bwrap_complaint(stderr) if exit_code == 1 else []


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


def _bwrap_complaint(stderr: Path) -> list[str]:
    # The stderr file lies in the agent's logs folder: the agent may have replaced it.
    try:
        head = read_agent_file(stderr, 500, prefix_only=True)
    except (FileNotFoundError, AgentFileRejected):
        return []
    first = head.split(b"\n", 1)[0].decode(errors="replace").strip()
    return [f"bubblewrap reported: {first}"] if first.startswith("bwrap:") else []


# --- the bubblewrap command line --------------------------------------------------------------


def bwrap_command(
    command: Command,
    *,
    data_fds: Mapping[str, int],
    notes: list[str] | None = None,
    guard: GuardPipes | None = None,
) -> list[str]:
    """The bwrap command line; ``data_fds`` maps /etc files to descriptors holding them, and
    with ``guard`` (the harness's pipes to it) the command is started by the guard."""
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
    envs = [command.python_env, *([command.harness_env] if command.harness_env else [])]
    env_paths, env_notes = python_envs_paths(envs)
    notes.extend(env_notes)
    for path in env_paths:
        cmd += ["--ro-bind", str(path), str(path)]
    for folder in practice_source_folders([Path("/usr"), *env_paths]):
        cmd += ["--tmpfs", str(folder), "--remount-ro", str(folder)]
    cmd += _gpu_bind_args(command.limits.gpus, notes)
    for m in command.mounts:
        cmd += ["--bind" if m.writable else "--ro-bind", os.path.abspath(m.source), m.target]
    argv = list(command.argv)
    if guard is not None:
        cmd += ["--ro-bind", str(GUARD_SCRIPT), GUARD_MOUNT]
        argv = guard.argv(argv, command.python_env)
    # Last, so that only /tmp, the home folder and writable mounts take writes.
    cmd += ["--remount-ro", "/"]
    for key, value in command.env.items():
        cmd += ["--setenv", key, value]
    cmd += ["--chdir", command.workdir, "--", *argv]
    return cmd


@dataclass
class GuardPipes:
    """The guard's two pipes: ``life`` (the guard reads it; only the harness holds the write end,
    whose closing at the harness's death ends the sandbox) and ``report`` (the guard writes its
    metering there as it ends; the harness reads it, without blocking, once the run is over)."""

    life_read: int
    life_write: int
    report_read: int
    report_write: int

    @classmethod
    def open(cls) -> GuardPipes:
        life_read, life_write = os.pipe()
        report_read, report_write = os.pipe()
        os.set_blocking(report_read, False)
        return cls(life_read, life_write, report_read, report_write)

    def argv(self, argv: list[str], python_env: Path) -> list[str]:
        """``argv`` started by the guard (bound at GUARD_MOUNT)."""
        guard = [_python(python_env), "-I", GUARD_MOUNT, str(self.life_read)]
        return [*guard, str(self.report_write), "--", *argv]

    def launch(self, argv: list[str], env: dict[str, str], cwd: str, pass_fds=()) -> Launch:
        """The launch of ``argv``, which starts the guard: the runner's own ``pass_fds`` and the
        guard's ends go to it, the harness keeps the others."""
        return Launch(
            argv, env=env, cwd=cwd,
            pass_fds=[*pass_fds, self.life_read, self.report_write],
            held_fds=[self.life_write, self.report_read],
            report_fd=self.report_read,
        )  # fmt: skip

    def close(self) -> None:
        for fd in (self.life_read, self.life_write, self.report_read, self.report_write):
            os.close(fd)


def _python(env: Path) -> str:
    for name in ("python3", "python"):
        if (env / "bin" / name).exists():
            return str(env / "bin" / name)
    return "/usr/bin/python3"


# Where the practice competitions' raw data come from (mlepipe.practice builds them from the
# datasets bundled with scikit-learn): inside the sandbox these folders are empty, or
# `sklearn.datasets.load_wine()` would hand an agent the practice answers.
_PRACTICE_SOURCES = ("sklearn/datasets/data",)
_SITE_PACKAGES = ("lib*/python3*/*-packages", "local/lib*/python3*/*-packages")


def practice_source_folders(roots: list[Path]) -> list[Path]:
    """The folders holding practice source data in the Python environments under ``roots``."""
    found: set[Path] = set()
    for root in roots:
        for source in _PRACTICE_SOURCES:
            candidates = [root / source] + [
                p / source for pattern in _SITE_PACKAGES for p in root.glob(pattern)
            ]
            found.update(c for c in candidates if c.is_dir() and not c.is_symlink())
    return sorted(found)


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


def _gpu_bind_args(gpus: tuple[str, ...], notes: list[str]) -> list[str]:
    """bwrap arguments binding only the assigned GPUs' devices; notes on what is missing."""
    if not gpus:
        return []
    devices, device_notes = gpu_device_paths(gpus)
    notes.extend(device_notes)
    args: list[str] = []
    for dev in devices:
        args += ["--dev-bind-try", dev, dev]
    # NVML reads the PCI topology from /sys.
    return [*args, "--ro-bind", "/sys", "/sys"]


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
