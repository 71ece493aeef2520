"""Safe extraction of the agent's submission from its writable submission folder.

The folder is the agent's: what lies there may be a symlink to private answers, a fifo that
blocks the reader, a huge file or one that changes while being read. Only a regular, small
enough UTF-8 file is copied out, and nothing there is ever followed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DEFAULT_SUBMISSION_CAP_MB = 1024


def extract_submission(src_dir: Path, dest: Path, max_bytes: int) -> tuple[bool, str | None]:
    """Copies `src_dir/submission.csv` to `dest` if it is a regular, small enough UTF-8 file.

    Returns (found, rejection reason). Never follows a symlink, never opens a fifo or device.
    """
    src = src_dir / "submission.csv"
    if dest.exists() or dest.is_symlink():
        dest.unlink()
    try:
        st = os.lstat(src)
    except FileNotFoundError:
        return False, "the agent wrote no submission.csv"
    except OSError as exc:
        return False, f"submission.csv cannot be inspected: {exc.strerror}"
    if stat.S_ISLNK(st.st_mode):
        return True, "submission.csv is a symbolic link; only a regular file is accepted"
    if not stat.S_ISREG(st.st_mode):
        kind = "directory" if stat.S_ISDIR(st.st_mode) else "device, fifo or socket"
        return True, f"submission.csv is a {kind}; only a regular file is accepted"
    if st.st_size > max_bytes:
        return True, f"submission.csv is {st.st_size} bytes, over the cap of {max_bytes}"
    fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    tmp = dest.with_name(dest.name + ".part")
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped after the lstat
            return True, "submission.csv changed type while being read"
        data = b""
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(max_bytes + 1)
        if len(data) > max_bytes:
            return True, f"submission.csv grew over the cap of {max_bytes} bytes"
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return True, f"submission.csv is not UTF-8 text (byte {exc.start})"
        tmp.write_bytes(data)
        tmp.replace(dest)
        return True, None
    finally:
        os.close(fd)
