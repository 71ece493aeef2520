"""Runner ``container``: the agent in a container of its own image, through the docker Python
SDK, against Docker Engine or Podman's Docker-compatible socket (experiment setting
``container_engine``).

The contract is bubblewrap's: the run's mounts as given (public data read-only; submission,
logs and code writable), the pipeline's Python environment read-only at its host path, a
read-only root file system with a private /tmp and home, no network (``network_mode: none``;
the model gateway's Unix socket is bound in and the forwarder serves it on 127.0.0.1), a
non-root user without capabilities, and the hardware config's memory, CPU and process limits
set on the container by the engine. An image labelled ``org.mlepipe.host-usr=ro`` is a shell
around the host's system: the host's /usr is bound read-only into it, as bubblewrap does.

The harness starts a small attach process (``container_attach``) in place of the agent: it
starts the container, copies its output to the harness's captured streams and exits with the
container's status, so that the time limit, disk quota and output cap work as for every runner.
The container is no child of the harness: the attach process removes it when the harness dies
(it holds a pipe from the harness), and every container carries labels naming its run and its
harness, so that the next run removes any a killed pipeline left behind.

OOM: Podman 4.3 reports ``OOMKilled: false`` even for a container killed at its memory limit,
so a run also counts as OOM-killed when the kernel's log (/dev/kmsg, readable by root) has an
``oom-kill`` record whose memory cgroup names the container's id.
"""

from __future__ import annotations

import functools
import os
import socket
import stat
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from mlepipe.harness import cgroups
from mlepipe.harness.bubblewrap import SANDBOX_HOME, SANDBOX_UID, practice_source_folders
from mlepipe.harness.gpus import gpu_device_paths
from mlepipe.harness.pyenv import python_env_paths
from mlepipe.harness.runner import (
    SYSTEM_PATH,
    Command,
    Launch,
    Limits,
    Runner,
    SandboxUnavailable,
)

LABEL_RUN = "org.mlepipe.run"
LABEL_HARNESS = "org.mlepipe.harness"  # host:pid:start-time of the harness that made it
LABEL_HOST_USR = "org.mlepipe.host-usr"
DEFAULT_ENGINE = "unix:///var/run/docker.sock"
# Started by path with the standard library only: it starts in a fraction of the time the
# package and the docker SDK take to import.
ATTACH_SCRIPT = Path(__file__).with_name("container_attach.py")
ENGINE_HINT = (
    "start an engine and name its socket with `container_engine:` in the configuration "
    "(Podman: `podman system service --time=0 unix:///run/podman/podman.sock`; Docker Engine: "
    "unix:///var/run/docker.sock)"
)


@functools.lru_cache(maxsize=8)  # one connection pool per engine and process
def engine_client(engine: str, timeout: float = 60):
    """A docker SDK client of ``engine``; SandboxUnavailable where none answers there."""
    try:
        import docker
    except ImportError as exc:
        raise SandboxUnavailable(
            "runner container needs the docker Python package (`pip install docker`)"
        ) from exc
    try:
        client = docker.DockerClient(base_url=engine, timeout=timeout)
        client.ping()
    except Exception as exc:
        raise SandboxUnavailable(
            f"no container engine answers at {engine} ({type(exc).__name__}): {ENGINE_HINT}"
        ) from exc
    return client


def harness_identity(pid: int | None = None) -> str:
    """host:pid:start-time of a process: a pid reused by another process reads differently."""
    pid = os.getpid() if pid is None else pid
    try:
        start = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        start = "?"
    return f"{socket.gethostname()}:{pid}:{start}"


def _harness_alive(identity: str) -> bool:
    host, _, rest = identity.partition(":")
    pid, _, _ = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's harness: not ours to judge
    return harness_identity(int(pid)) == identity


def remove_orphans(client) -> list[str]:
    """Remove the containers whose harness on this host is gone; returns their names."""
    removed = []
    for ct in client.containers.list(all=True, filters={"label": LABEL_HARNESS}):
        if not _harness_alive(ct.labels.get(LABEL_HARNESS, "")):
            try:
                ct.remove(force=True)
                removed.append(ct.name)
            except Exception:  # already gone, or being removed by its attach process
                pass
    return removed


def image_identity(image) -> dict[str, Any]:
    """What run.json records of an image: its id, tags and registry digests."""
    return {
        "image_id": image.id,
        "image_tags": list(image.tags),
        "image_digests": list(image.attrs.get("RepoDigests") or []),
    }


class ContainerRunner(Runner):
    name = "container"
    # The container's processes belong to the engine, not to the harness's run cgroup: they
    # are metered in the cgroup the engine is told to start the container under (``usage``).
    run_in_cgroup = False
    descendants_metered = False

    def __init__(
        self,
        engine: str | None = None,
        image: str | None = None,
        run_label: str = "",
        privileged: bool = False,
        image_path: bool = False,
    ) -> None:
        self.engine = engine or os.environ.get("DOCKER_HOST") or DEFAULT_ENGINE
        self.image_ref = image
        self.run_label = run_label
        self.privileged = privileged
        # PATH as the image sets it, without the pipeline's Python in front (MLE-bench's agents).
        self.image_path = image_path
        self.identity: dict[str, Any] = {}
        self._client = None
        self._container = None
        self._oom = False
        self._kmsg = None
        self._engine_cgroup: str | None = None
        self._usage: tuple[float | None, float | None] = (None, None)
        self._written: tuple[int | None, str | None] = (
            None, "disk written not measured in the container: no engine cgroup of the run's",
        )  # fmt: skip

    def check(self) -> None:
        if self.image_ref is None:
            raise SandboxUnavailable(
                "runner container needs an image: give the agent `image:` (an image present in "
                "the engine) or `build:` (a folder with a Dockerfile)"
            )
        self._client = self._client or engine_client(self.engine)

    def prepare_writable(self, source: Path) -> None:
        # The container user is uid 1000; a root harness hands the writable folders to it.
        if os.geteuid() == 0:
            os.chown(source, SANDBOX_UID, SANDBOX_UID)

    def home(self) -> str:
        return SANDBOX_HOME

    def isolation(self, limits: Limits, workdir: str) -> tuple[dict[str, str | None], list[str]]:
        enforced: dict[str, str | None] = {
            "network": "container (network none)",
            "filesystem": "container",
            "memory_mb": "container" if limits.memory_mb else None,
            "cpus": "container" if limits.cpus else None,
            "pids": "container" if limits.pids else None,
        }
        notes = []
        if limits.gpus:
            enforced["gpus"] = "device-binding" if self._is_podman() else "device-request"
        if self.privileged:
            notes.append("the container runs privileged (allowed by the experiment)")
        return enforced, notes

    def export_folder(self, inside: str, dest: Path) -> None:
        """Copy the image's folder ``inside`` to the host folder ``dest``, owned by the
        container's user (``dest`` stays empty where the image has no such folder). Regular
        files, folders and symlinks only, each inside ``dest``."""
        import docker

        dest.mkdir(parents=True, exist_ok=True)
        image = _get_image(self._client, self.image_ref)
        ct = self._client.containers.create(
            image.id, command=["true"], entrypoint=[], network_mode="none",
            labels={LABEL_RUN: self.run_label, LABEL_HARNESS: harness_identity()},
        )  # fmt: skip
        try:
            try:
                stream, _ = ct.get_archive(inside)
            except docker.errors.NotFound:
                return
            with tempfile.TemporaryFile() as buffer:
                for chunk in stream:
                    buffer.write(chunk)
                buffer.seek(0)
                with tarfile.open(fileobj=buffer) as tar:
                    _extract_below(tar, dest)
        finally:
            ct.remove(force=True)
        if os.geteuid() == 0:
            for path in (dest, *dest.rglob("*")):
                os.lchown(path, SANDBOX_UID, SANDBOX_UID)

    def _is_podman(self) -> bool:
        version = self._client.version()
        return any("podman" in c.get("Name", "").lower() for c in version.get("Components", []))

    # --- starting and stopping ----------------------------------------------------------------

    def launch(self, command: Command, notes: list[str]) -> Launch:
        client = self._client
        removed = remove_orphans(client)
        if removed:
            notes.append(f"removed containers of dead runs: {', '.join(removed)}")
        image = _get_image(client, self.image_ref)
        self.identity = image_identity(image)
        spec = self.container_spec(command, image.attrs, notes)
        self._engine_cgroup = self._metered_cgroup(spec, notes)
        self._kmsg = _KernelLog()
        self._container = client.containers.create(image.id, **spec)
        self.identity["container"] = self._container.name
        guard_read, guard_write = os.pipe()
        argv = [
            sys.executable, "-I", str(ATTACH_SCRIPT), self.engine, self._container.id,
            str(guard_read),
        ]  # fmt: skip
        env = {"PATH": SYSTEM_PATH, "LANG": "C.UTF-8"}
        return Launch(argv, env=env, cwd="/", pass_fds=[guard_read], held_fds=[guard_write])

    def _metered_cgroup(self, spec: dict, notes: list[str]) -> str | None:
        """Have the engine start the container under a cgroup of the run's own
        (``cgroup_parent``), which keeps its CPU time and peak memory after the container's
        cgroup has gone with it. Only an engine that manages cgroups itself (driver cgroupfs)
        takes such a path; under systemd's the container is left unmetered."""
        driver = (self._client.info() or {}).get("CgroupDriver", "")
        if driver != "cgroupfs":
            notes.append(
                "the container's CPU time and memory are not metered: the engine's cgroup "
                f"driver is {driver or 'unknown'}, not cgroupfs"
            )
            return None
        cgroups.remove_stale_engine_cgroups()
        spec["cgroup_parent"] = path = cgroups.engine_cgroup_path()
        return path

    def container_spec(self, command: Command, image_attrs: dict, notes: list[str]) -> dict:
        """The docker SDK's ``containers.create`` arguments for ``command``."""
        limits = command.limits
        config = image_attrs.get("Config") or {}
        labels = config.get("Labels") or {}
        image_env = dict(e.split("=", 1) for e in config.get("Env") or [] if "=" in e)
        env = dict(command.env)
        # The pipeline's Python first (the validator and the gateway's forwarder), then the
        # image's own tools.
        env["PATH"] = f"{command.python_env / 'bin'}:{image_env.get('PATH', SYSTEM_PATH)}"
        if self.image_path:
            env["PATH"] = image_env.get("PATH", SYSTEM_PATH)
        volumes: dict[str, dict[str, str]] = {}
        if labels.get(LABEL_HOST_USR) == "ro":
            volumes["/usr"] = {"bind": "/usr", "mode": "ro"}
        env_paths, env_notes = python_env_paths(command.python_env)
        notes.extend(env_notes)
        for path in env_paths:
            volumes[str(path)] = {"bind": str(path), "mode": "ro"}
        for m in command.mounts:
            source = os.path.abspath(m.source)
            if stat.S_ISSOCK(os.stat(source).st_mode) and os.geteuid() == 0:
                os.chown(source, SANDBOX_UID, SANDBOX_UID)  # the gateway's socket
            volumes[source] = {"bind": m.target, "mode": "rw" if m.writable else "ro"}
        tmpfs = {"/tmp": "rw,mode=1777", SANDBOX_HOME: "rw,mode=1777"}
        # The practice competitions' source data stay out of reach, as under bubblewrap.
        for folder in practice_source_folders([Path("/usr"), *env_paths]):
            tmpfs[str(folder)] = "ro"
        spec: dict[str, Any] = {
            "command": list(command.argv),
            "entrypoint": [],
            "environment": env,
            "working_dir": command.workdir,
            "user": f"{SANDBOX_UID}:{SANDBOX_UID}",
            "volumes": volumes,
            "tmpfs": tmpfs,
            "network_mode": "none",
            "read_only": True,
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "labels": {LABEL_RUN: self.run_label, LABEL_HARNESS: harness_identity()},
            "hostname": "sandbox",
            "detach": True,
        }
        if self.privileged:
            spec.update(privileged=True, cap_drop=None, security_opt=None, read_only=False)
        if limits.memory_mb:
            spec["mem_limit"] = spec["memswap_limit"] = f"{limits.memory_mb}m"
            spec["shm_size"] = f"{max(64, limits.memory_mb // 4)}m"
        if limits.cpus:
            spec["nano_cpus"] = int(limits.cpus * 1e9)
        if limits.pids:
            spec["pids_limit"] = limits.pids
        if limits.disk_mb:
            spec["ulimits"] = _file_size_ulimits(limits.disk_mb)
        if limits.gpus:
            spec.update(self._gpu_spec(limits.gpus, notes))
        return spec

    def _gpu_spec(self, gpus: tuple[str, ...], notes: list[str]) -> dict:
        if self._is_podman():
            # Podman 4.3 ignores device requests: bind the assigned devices themselves.
            devices, device_notes = gpu_device_paths(gpus)
            notes.extend(device_notes)
            return {"devices": [f"{d}:{d}:rwm" for d in devices]}
        import docker

        request = docker.types.DeviceRequest(device_ids=list(gpus), capabilities=[["gpu"]])
        return {"device_requests": [request]}

    def stop(self, proc: subprocess.Popen, cg: cgroups.RunCgroup, grace: float) -> None:
        """SIGTERM the container, then after ``grace`` seconds kill it and the attach process."""
        if grace > 0:
            self._signal_container("SIGTERM")
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        self._signal_container("SIGKILL")
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        super().stop(proc, cg, 0)

    def _signal_container(self, sig: str) -> None:
        try:
            self._container.kill(signal=sig)
        except Exception:  # it has ended already
            pass

    def kill_leftovers(self, proc: subprocess.Popen, cg: cgroups.RunCgroup) -> None:
        """Read how the container ended, then remove it."""
        ct = self._container
        try:
            ct.reload()
            self._oom = bool(ct.attrs["State"].get("OOMKilled"))
        except Exception:
            pass
        self._oom = self._oom or self._kmsg.oom_kill_of(ct.id)
        try:
            ct.remove(force=True)
        except Exception:  # removed already by the attach process
            pass
        if self._engine_cgroup:
            self._usage = cgroups.engine_usage(self._engine_cgroup)
            self._written = cgroups.engine_bytes_written(self._engine_cgroup)
            cgroups.remove_engine_cgroup(self._engine_cgroup)
        super().kill_leftovers(proc, cg)

    # --- the result ---------------------------------------------------------------------------

    def identity_fields(self) -> dict:
        return {"engine": self.engine, **self.identity}

    def oom_killed(self, cg: cgroups.RunCgroup) -> bool:
        return self._oom

    def usage(self, cg: cgroups.RunCgroup) -> tuple[float | None, float | None]:
        """The container's (with the engine's monitor of it), read once it had ended."""
        return self._usage

    def bytes_written(self) -> tuple[int | None, str | None]:
        return self._written

    def decode_status(self, returncode: int) -> tuple[int | None, int | None]:
        """The engine reports a signal N as exit status 128 + N."""
        if 128 < returncode <= 128 + 64:
            return None, returncode - 128
        return super().decode_status(returncode)


def _get_image(client, ref: str):
    import docker

    try:
        return client.images.get(ref)
    except docker.errors.ImageNotFound as exc:
        raise SandboxUnavailable(
            f"image {ref!r} is not present in the container engine: build it (`build:` in the "
            "agent's definition) or load it there; no registry is pulled from"
        ) from exc


def _extract_below(tar: tarfile.TarFile, dest: Path) -> None:
    """The archive of one folder (its own name first in every path) extracted into ``dest``."""
    for member in tar.getmembers():
        parts = Path(member.name).parts[1:]
        if not parts or ".." in parts or Path(member.name).is_absolute():
            continue
        if not (member.isfile() or member.isdir() or member.issym()):
            continue
        member.name = str(Path(*parts))
        tar.extract(member, dest, set_attrs=False, filter="tar")
        target = dest / member.name
        if member.isfile() or member.isdir():
            os.chmod(target, member.mode & 0o777 | 0o600 if member.isfile() else 0o755)


def _file_size_ulimits(disk_mb: int) -> list:
    """RLIMIT_FSIZE at the disk quota. ``ulimits`` replaces the engine's defaults, so the
    harness's own open-files and process limits go with it."""
    import resource

    import docker

    fsize = disk_mb * 1024 * 1024
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    nproc = 32768 if nproc == resource.RLIM_INFINITY else min(nproc, 32768)
    nofile = 1048576 if nofile == resource.RLIM_INFINITY else nofile
    return [
        docker.types.Ulimit(name="fsize", soft=fsize, hard=fsize),
        docker.types.Ulimit(name="nofile", soft=nofile, hard=nofile),
        docker.types.Ulimit(name="nproc", soft=nproc, hard=nproc),
    ]


class _KernelLog:
    """The kernel log from now on (/dev/kmsg; root only): did it OOM-kill in a container?"""

    def __init__(self) -> None:
        try:
            self.fd: int | None = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
            os.lseek(self.fd, 0, os.SEEK_END)
        except OSError:
            self.fd = None

    def oom_kill_of(self, container_id: str) -> bool:
        if self.fd is None:
            return False
        found = False
        try:
            while True:
                try:
                    record = os.read(self.fd, 8192).decode(errors="replace")
                except BrokenPipeError:  # records overwritten meanwhile: read on
                    continue
                except BlockingIOError:
                    break
                if "oom-kill:" in record and container_id in record:
                    found = True
        finally:
            os.close(self.fd)
            self.fd = None
        return found
