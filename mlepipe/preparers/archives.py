"""Deterministic zip writing for the preparers.

Every archive a preparation writes must have the same bytes each time the same raw data are
prepared, so members never get the time of writing or the file's own mode: they get a date
chosen by the caller (fixed, or copied from the source archive) and 0o644 permissions. Members
are streamed in chunks, so a member of many gigabytes is never held in memory.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

DateTime = tuple[int, int, int, int, int, int]

# The usual fixed member date (2020-01-01 00:00); tables.ZIP_TIMESTAMP is an older choice kept
# so that those archives keep their bytes.
FIXED_DATE_TIME: DateTime = (2020, 1, 1, 0, 0, 0)
COPY_CHUNK = 1 << 20


def member_info(
    name: str, date_time: DateTime, *, size: int = 0, deflate: bool = True, mode: int = 0o644
) -> zipfile.ZipInfo:
    """A ZipInfo for a file member `name`: deflated (or stored), dated `date_time`, with `mode`."""
    info = zipfile.ZipInfo(name, date_time=date_time)
    info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    info.external_attr = mode << 16
    # zipfile decides on ZIP64 headers from the size known before writing, so give the real one.
    info.file_size = size
    return info


def zip_files(
    dest: Path,
    entries: Iterable[tuple[Path, str]],
    date_time: DateTime = FIXED_DATE_TIME,
    *,
    date_times: Mapping[str, DateTime] | None = None,
    deflate: bool = True,
) -> int:
    """Writes the files `(path, arcname)` into the new zip `dest`, in the given order.

    A member is dated `date_times[arcname]` when given, else `date_time`. Returns the number of
    members written.
    """
    date_times = date_times or {}
    count = 0
    with zipfile.ZipFile(dest, "w") as out:
        for path, arcname in entries:
            info = member_info(
                arcname,
                date_times.get(arcname, date_time),
                size=Path(path).stat().st_size,
                deflate=deflate,
            )
            with open(path, "rb") as src, out.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, COPY_CHUNK)
            count += 1
    return count


def zip_members(
    source: zipfile.ZipFile,
    dest: Path,
    members: Iterable[tuple[str, str]],
    *,
    date_time: DateTime | None = None,
    folder: str | None = None,
    missing: Callable[[str], Exception] | None = None,
) -> int:
    """Writes the new zip `dest` holding, for each `(member, name)`, `source`'s member as `name`.

    Members keep their own dates unless `date_time` is given. With `folder`, names become
    `<folder>/<name>` after a `<folder>/` entry, the layout of `shutil.make_archive(base, "zip",
    root, folder)` (the folder entry needs a fixed `date_time`). A member `source` lacks raises
    `missing(member)` when given, else zipfile's KeyError. Returns the number of members written.
    """
    if folder is not None and date_time is None:
        raise ValueError("a folder entry needs a fixed date_time")
    count = 0
    with zipfile.ZipFile(dest, "w") as out:
        if folder is not None:
            entry = zipfile.ZipInfo(f"{folder}/", date_time=date_time)
            entry.external_attr = (0o40755 << 16) | 0x10  # drwxr-xr-x and the MS-DOS folder flag
            out.writestr(entry, b"")
        for member, name in members:
            try:
                old = source.getinfo(member)
            except KeyError:
                if missing is None:
                    raise
                raise missing(member) from None
            info = member_info(
                f"{folder}/{name}" if folder is not None else name,
                old.date_time if date_time is None else date_time,
                size=old.file_size,
            )
            with source.open(old) as src, out.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, COPY_CHUNK)
            count += 1
    return count
