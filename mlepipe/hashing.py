"""MD5 of files: the digest MLE-bench records for prepared files and Kaggle zips. Imports nothing
of the package, so acquisition, preparation and grading share it."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

BLOCK = 1 << 20


def md5_file(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def md5_file_cached(path: Path) -> str:
    """`md5_file`, computed once per process for each path, size and modification time (files
    read many times: a zip compared with its copy, answers checked before every grade)."""
    st = Path(path).stat()
    return _md5_unchanged(Path(path).resolve(), st.st_size, st.st_mtime_ns)


@functools.cache
def _md5_unchanged(path: Path, size: int, mtime_ns: int) -> str:
    return md5_file(path)
