"""Reading back a file from a folder the agent can write (logs/, submission/, code/).

Whatever lies there is the agent's: a symlink to private answers, a fifo or socket that blocks
whoever opens it, a huge file, or one swapped for another between two looks. The harness reads
such files only through `read_agent_file`: nothing is followed, nothing but a regular file is
opened, no open or read can block, and no more than a given number of bytes is read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class AgentFileRejected(Exception):
    """The harness will not read this agent-written file; the message says why."""


def read_agent_file(path: Path, max_bytes: int, *, prefix_only: bool = False) -> bytes:
    """The bytes of ``path``, a regular file in an agent-writable folder.

    A file over ``max_bytes`` is rejected, or with ``prefix_only`` its first ``max_bytes`` bytes
    are returned. Raises FileNotFoundError when there is no such file and AgentFileRejected for
    anything else than a regular file (symlink, fifo, socket, device, directory) or one that
    cannot be opened, is over the cap, or changes while being read.
    """
    name = path.name
    try:
        # The folder itself is opened without following a symlink either.
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise AgentFileRejected(f"the folder of {name} cannot be opened: {exc.strerror}") from exc
    try:
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise AgentFileRejected(f"{name} cannot be inspected: {exc.strerror}") from exc
        _require_regular(name, st.st_mode)
        if st.st_size > max_bytes and not prefix_only:
            raise AgentFileRejected(f"{name} is {st.st_size} bytes, over the cap of {max_bytes}")
        try:
            fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
        except OSError as exc:  # swapped for a symlink or removed after the look
            raise AgentFileRejected(f"{name} changed while being read: {exc.strerror}") from exc
    finally:
        os.close(dir_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise AgentFileRejected(f"{name} changed type while being read")
        data = _read_at_most(fd, max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        if prefix_only:
            return data[:max_bytes]
        raise AgentFileRejected(f"{name} grew over the cap of {max_bytes} bytes")
    return data


def _require_regular(name: str, mode: int) -> None:
    if stat.S_ISLNK(mode):
        raise AgentFileRejected(f"{name} is a symbolic link; only a regular file is accepted")
    if not stat.S_ISREG(mode):
        kind = "directory" if stat.S_ISDIR(mode) else "device, fifo or socket"
        raise AgentFileRejected(f"{name} is a {kind}; only a regular file is accepted")


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks, left = [], limit
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
