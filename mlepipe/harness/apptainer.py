"""Runner ``apptainer``: the agent in a SIF image with Apptainer, the norm on Slurm GPU clusters.

    apptainer exec --containall --cleanenv --no-home --net --network none [--nv]
        --bind SRC:DST:ro|rw ... --pwd DIR IMAGE.sif python -I guard.py FD REPORT_FD -- AGENT ARGV

The contract is bubblewrap's: the run's mounts as given (public data read-only; submission,
logs and code writable), the pipeline's Python environment read-only at its host path (its
interpreter must run on the image's C library), private /tmp, /dev and home (``--containall``
also gives fresh PID and IPC namespaces), a network namespace with only loopback
(``--network none``, which unprivileged users may ask for; the model gateway's Unix socket is
bound in and the forwarder serves it on 127.0.0.1), the assigned GPUs (``--nv`` with
CUDA_VISIBLE_DEVICES). The environment goes in as APPTAINERENV_ variables of the apptainer
process, which ``--cleanenv`` lets through, never on its command line, where every user of the
node could read it. The run's cgroup holds apptainer and everything it starts, so the memory,
CPU and process limits, the time limit, the disk quota and the output cap are the harness's, as
for every runner. The guard (``guard.py``) ends the container when the harness dies.

The image is the agent's `sif:` (built beforehand, e.g. `apptainer build agent.sif
docker-daemon://mlepipe-agent-NAME:latest` from the image the container runner builds, or from
a definition file); run.json records its path and SHA-256.

Apptainer is packaged neither in Debian 12 nor on PyPI, so this runner has not run on the
machines this project is tested on: its command lines are checked against the contract
(tests/test_apptainer.py), and `check` says how to get Apptainer where it is missing.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from mlepipe.harness.bubblewrap import (
    GUARD_MOUNT,
    GUARD_SCRIPT,
    SANDBOX_HOME,
    GuardPipes,
    practice_source_folders,
)
from mlepipe.harness.pyenv import python_env_paths
from mlepipe.harness.runner import Command, Launch, Limits, Runner, SandboxError, SandboxUnavailable

INSTALL_HINT = (
    "install Apptainer (https://apptainer.org; on a cluster often `module load apptainer`), or "
    "use `sandbox: bubblewrap` or `sandbox: container`"
)


class ApptainerRunner(Runner):
    name = "apptainer"

    def __init__(self, image: str | Path | None = None, **_options) -> None:
        self.image = Path(image) if image else None

    @classmethod
    def executable(cls) -> str | None:
        return shutil.which("apptainer") or shutil.which("singularity")

    @classmethod
    def check(cls) -> None:
        if cls.executable() is None:
            raise SandboxUnavailable(f"apptainer is not on PATH: {INSTALL_HINT}")

    def home(self) -> str:
        return SANDBOX_HOME

    def isolation(self, limits: Limits, workdir: str) -> tuple[dict[str, str | None], list[str]]:
        enforced = {
            "network": "namespace (apptainer --network none)",
            "filesystem": "apptainer --containall",
            "gpus": "apptainer --nv with CUDA_VISIBLE_DEVICES" if limits.gpus else None,
        }
        return enforced, []

    def launch(self, command: Command, notes: list[str]) -> Launch:
        if self.image is None:
            raise SandboxError("runner apptainer needs the agent's image: set `sif:` for it")
        if not self.image.is_file():
            raise SandboxError(f"the agent's SIF image {self.image} does not exist")
        pipes = GuardPipes.open()
        try:
            argv = apptainer_command(
                self.executable() or "apptainer", self.image, command, notes, guard=pipes
            )
        except BaseException:
            pipes.close()
            raise
        env = {f"APPTAINERENV_{k}": v for k, v in command.env.items()}
        env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")  # to find apptainer's helpers
        return pipes.launch(argv, env=env, cwd="/")

    def decode_status(self, returncode: int) -> tuple[int | None, int | None]:
        """apptainer reports the command's end by a signal N as exit status 128 + N."""
        if 128 < returncode <= 128 + 64:
            return None, returncode - 128
        return super().decode_status(returncode)

    def identity_fields(self) -> dict:
        if self.image is None or not self.image.is_file():
            return {}
        st = self.image.stat()
        return {
            "sif": str(self.image.resolve()),
            "sif_sha256": _sha256(self.image.resolve(), st.st_size, st.st_mtime_ns),
        }


def apptainer_command(
    apptainer: str, image: Path, command: Command, notes: list[str], guard: GuardPipes | None = None
) -> list[str]:
    """The apptainer command line of ``command`` (environment excepted: see the module)."""
    argv = [
        apptainer, "exec", "--containall", "--cleanenv", "--no-home",
        "--net", "--network", "none",
    ]  # fmt: skip
    if command.limits.gpus:
        argv.append("--nv")
    env_paths, env_notes = python_env_paths(command.python_env)
    notes.extend(env_notes)
    binds = [f"{p}:{p}:ro" for p in env_paths]
    # The practice competitions' source data stay out of reach, as under bubblewrap.
    binds += [f"{_empty_dir()}:{folder}:ro" for folder in practice_source_folders(env_paths)]
    for m in command.mounts:
        binds.append(f"{os.path.abspath(m.source)}:{m.target}:{'rw' if m.writable else 'ro'}")
    agent = list(command.argv)
    if guard is not None:
        binds.append(f"{GUARD_SCRIPT}:{GUARD_MOUNT}:ro")
        agent = guard.argv(agent, command.python_env)
    for bind in binds:
        if "," in bind:
            raise SandboxError(f"apptainer cannot bind a path holding a comma: {bind}")
        argv += ["--bind", bind]
    argv += ["--pwd", command.workdir, str(image), *agent]
    return argv


@functools.cache
def _empty_dir() -> Path:
    """An empty read-only folder to bind over others (removed when the harness exits)."""
    folder = Path(tempfile.mkdtemp(prefix="mlepipe-empty-"))
    folder.chmod(0o555)
    atexit.register(lambda: folder.rmdir() if folder.is_dir() else None)
    return folder


@functools.lru_cache(maxsize=8)
def _sha256(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
