"""A real Podman engine behind the docker SDK for the container tests, and a base image built
locally (no registry is reachable): a few folders and symlinks into /usr, labelled so that the
container runner binds the host's /usr read-only into it (built in well under a second).

Podman here needs runc (crun fails on these hybrid cgroups), default ulimits within the host's
hard limits (containers.conf), overlay storage, and --root/--runroot flags (a storage.conf made
every run stall). See tests that use ``podman_engine``; they skip when podman is absent or not
run as root.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

BASE_IMAGE = "localhost/mlepipe-test-base:latest"
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
"""
PASSWD = "root:x:0:0:root:/root:/usr/sbin/nologin\nsandbox:x:1000:1000::/home/sandbox:/bin/sh\n"
GROUP = "root:x:0:\nsandbox:x:1000:\n"


class Podman:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.socket = folder / "podman.sock"
        self.url = f"unix://{self.socket}"
        (folder / "containers.conf").write_text(CONTAINERS_CONF)
        self.env = {**os.environ, "CONTAINERS_CONF": str(folder / "containers.conf")}
        self.flags = [
            "--root", str(folder / "root"), "--runroot", str(folder / "runroot"),
            "--storage-driver", "overlay",
        ]  # fmt: skip

    def podman(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["podman", *self.flags, *args], env=self.env, check=True, capture_output=True,
            **kwargs,
        )  # fmt: skip

    def start(self) -> None:
        log = open(self.folder / "service.log", "wb")
        self.service = subprocess.Popen(
            ["podman", *self.flags, "system", "service", "--time=0", self.url],
            env=self.env, stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while not self.socket.exists():
            if time.monotonic() > deadline or self.service.poll() is not None:
                raise RuntimeError(f"podman service did not start: {self.folder}/service.log")
            time.sleep(0.05)

    def stop(self) -> None:
        self.service.terminate()
        self.service.wait(timeout=30)
        # The overlay storage stays mounted after the service ends: unmount it, or the test
        # session's temporary folders cannot be removed.
        subprocess.run(["podman", *self.flags, "unmount", "--all"], env=self.env,
                       capture_output=True)  # fmt: skip
        subprocess.run(["umount", "-l", str(self.folder / "root" / "overlay")], capture_output=True)

    def build_base_image(self) -> None:
        self.podman(
            "import", "--change", "LABEL org.mlepipe.host-usr=ro", "-", BASE_IMAGE,
            input=_base_rootfs(),
        )  # fmt: skip

    def client(self):
        import docker

        return docker.DockerClient(base_url=self.url)

    def containers(self, label: str = "org.mlepipe.harness") -> list:
        return self.client().containers.list(all=True, filters={"label": label})


def _base_rootfs() -> bytes:
    """A root file system of empty folders, symlinks into /usr and a minimal /etc."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, mode in [("usr", 0o755), ("etc", 0o755), ("tmp", 0o1777), ("home", 0o755),
                           ("root", 0o755), ("run", 0o755), ("opt", 0o755), ("proc", 0o555),
                           ("sys", 0o555), ("dev", 0o755), ("var", 0o755)]:  # fmt: skip
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, mode
            tar.addfile(info)
        for name in ("bin", "sbin", "lib", "lib64"):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, f"usr/{name}"
            tar.addfile(info)
        for name, text in [("etc/passwd", PASSWD), ("etc/group", GROUP),
                           ("etc/hosts", "127.0.0.1 localhost sandbox\n")]:  # fmt: skip
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def podman_skip_reason() -> str | None:
    if not shutil.which("podman"):
        return "podman is not installed (apt-get install podman runc; .ci/run installs them)"
    if os.geteuid() != 0:
        return "the Podman tests run a rootful Podman service: run them as root"
    return None


@pytest.fixture(scope="session")
def podman_engine(tmp_path_factory):
    """A running Podman service with the base image, for the whole test session."""
    reason = podman_skip_reason()
    if reason:
        pytest.skip(reason)
    # A short path: the socket path must fit in sun_path.
    folder = Path(tmp_path_factory.mktemp("podman"))
    engine = Podman(folder)
    engine.start()
    try:
        engine.build_base_image()
        yield engine
    finally:
        engine.stop()
