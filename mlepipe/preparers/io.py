"""Reading, writing, copying and extracting files: the one implementation every preparer uses.

- A raw input that is missing is always a PreparationError naming the file and what to do
  (`require`), whether it is read, copied or extracted.
- Tables are read as MLE-bench reads them (floats parsed exactly) and written without the index
  and with '\\n' line ends; `write_rows` writes a selection of a large table a block of rows at a
  time, so that no second copy of the table is made.
- Files are copied byte for byte, never decoded; zip and 7-Zip archives are extracted or read
  member by member, never held whole in memory.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlepipe.preparers.errors import PreparationError

# Rows written per block when a large table is written in an order of our choosing.
WRITE_BLOCK_ROWS = 500_000
COPY_CHUNK = 1 << 20
# Files packed into .7z archives get this mtime (2020-01-01 00:00 UTC, the instant of
# archives.FIXED_DATE_TIME), so that the same raw data always give the same archive bytes.
FIXED_EPOCH = 1577836800


# --------------------------------------------------------------------------------------------
# Inputs that must exist


def _missing(path: Path) -> PreparationError:
    path = Path(path)
    return PreparationError(
        f"{path.name} is missing from {path.parent}; the download looks incomplete: delete the "
        "competition's raw/ folder and prepare again to extract its zip anew, or stage a "
        "complete zip"
    )


def require(path: Path) -> Path:
    """`path` itself (a file or a folder), or the error that it is missing."""
    path = Path(path)
    if not path.exists():
        raise _missing(path)
    return path


def require_columns(table: Any, columns: Sequence[str], where: str) -> None:
    """Raises a PreparationError naming the columns a raw table (anything with `.columns`)
    lacks."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise PreparationError(
            f"{where}: missing column(s) {missing}; found {list(table.columns)}: the raw data do "
            "not look like this competition's download"
        )


# --------------------------------------------------------------------------------------------
# Tables and JSON


def read_csv(path: Path | str, **kwargs: Any) -> pd.DataFrame:
    """pandas.read_csv of a raw file. Floats are parsed exactly, as MLE-bench reads every table
    (pandas 3's default; MLE-bench asks for float_precision="round_trip"). With `chunksize`,
    pandas' reader of chunks."""
    return pd.read_csv(require(Path(path)), **kwargs)


def write_csv(frame: pd.DataFrame, path: Path | str, **kwargs: Any) -> None:
    """DataFrame.to_csv without the index and with '\\n' line ends on every platform."""
    frame.to_csv(path, **{"index": False, "lineterminator": "\n", **kwargs})


def write_rows(
    table: Any,
    rows: Sequence[int] | Sequence[bool] | np.ndarray,
    path: Path,
    *,
    columns: Sequence[str] | None = None,
    renumber: str | None = None,
    block: int | None = None,
    **kwargs: Any,
) -> None:
    """Writes the rows of `table` at the positions `rows` (in that order; a boolean mask selects
    rows in table order) as one CSV, a block of rows at a time. The bytes equal those of
    `write_csv(table.take(rows)[columns])`, but only one block is ever copied out of the table.

    `table` is a DataFrame or anything whose `take(positions)` returns one (tables.ChunkedTable).
    `columns` keeps only those columns; `renumber` names a column set to 0, 1, 2, ... A block
    (default WRITE_BLOCK_ROWS, read at each call) costs a few times its size in memory while it
    is written: use smaller blocks for rows of long text.
    """
    block = block or WRITE_BLOCK_ROWS
    rows = np.asarray(rows)
    rows = np.flatnonzero(rows) if rows.dtype == bool else rows.astype(np.int64, copy=False)
    with open(path, "w", encoding="utf-8", newline="") as f:
        for start in range(0, max(len(rows), 1), block):  # no rows: the header alone
            part = table.take(rows[start : start + block])
            if columns is not None:
                part = part[list(columns)]
            if renumber:
                part = part.assign(**{renumber: np.arange(start, start + len(part))})
            write_csv(part, f, header=start == 0, **kwargs)


def read_json(path: Path, *, encoding: str = "utf-8") -> Any:
    with open(require(path), encoding=encoding) as f:
        return json.load(f)


def write_json(
    path: Path, data: Any, *, indent: int | None = None, sort_keys: bool = False
) -> None:
    """json.dump with its defaults (ASCII escapes, ', ' and ': ' separators): the exact bytes that
    MLE-bench's preparation writes for the same settings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=indent, sort_keys=sort_keys)


def first_json_record(path: Path, chunk: int = COPY_CHUNK) -> dict:
    """The first object of a JSON file holding a list of objects, without reading the rest."""
    decoder = json.JSONDecoder()
    text = ""
    with open(require(path), encoding="utf-8") as f:
        while block := f.read(chunk):
            text += block
            start = text.find("{")
            if start < 0:
                continue
            try:
                record, _ = decoder.raw_decode(text, start)
            except json.JSONDecodeError:
                continue  # the first object goes on in the next block
            return record
    raise PreparationError(f"{path} does not start with a JSON object; the download looks wrong")


# --------------------------------------------------------------------------------------------
# Copying files and folders


def copy_file(src: Path, dst: Path) -> None:
    """Copies one file's bytes; parent folders of `dst` are created."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(src, dst)
    except FileNotFoundError:
        require(src)
        raise


def copy_files(
    src_dir: Path, dst_dir: Path, names: Iterable[str], *, dst_names: Iterable[str] | None = None
) -> int:
    """Copies `src_dir/<name>` to `dst_dir/<name>` (or `dst_dir/<dst name>`) byte for byte, for
    each name. Names may hold sub-folders; `dst_dir` and missing parent folders are created.
    Returns the number of files copied."""
    dst_dir.mkdir(parents=True, exist_ok=True)
    made = {dst_dir}
    targets = iter(dst_names) if dst_names is not None else None
    count = 0
    for name in names:
        dst = dst_dir / (next(targets) if targets is not None else name)
        if dst.parent not in made:
            dst.parent.mkdir(parents=True, exist_ok=True)
            made.add(dst.parent)
        try:
            shutil.copyfile(src_dir / name, dst)
        except FileNotFoundError:
            require(src_dir / name)
            raise
        count += 1
    return count


def copy_tree(src: Path, dst: Path) -> None:
    """Copies a folder and everything below it (files byte for byte); `dst` may exist."""
    if not Path(src).is_dir():
        raise _missing(src)
    shutil.copytree(src, dst, dirs_exist_ok=True)


def copy_trees(src_dir: Path, dst_dir: Path, names: Iterable[str]) -> int:
    """Copies each folder `src_dir/<name>` to `dst_dir/<name>`; returns how many."""
    dst_dir.mkdir(parents=True, exist_ok=True)
    count = 0
    for name in names:
        copy_tree(src_dir / str(name), dst_dir / str(name))
        count += 1
    return count


# --------------------------------------------------------------------------------------------
# Zip archives


# Limits on what a zip may unpack to, so that a hostile or damaged archive cannot fill the disk
# (a "zip bomb"). Real competition data compress at most about 10:1 (the mirrored downloads:
# at most 6.6:1); a run of zeros compresses about 1000:1. The ratio is only checked for members
# above MAX_UNCHECKED_MEMBER_BYTES, since small files of repeated text legitimately compress
# far better. No MLE-bench download holds a single file above MAX_MEMBER_BYTES.
MAX_COMPRESSION_RATIO = 100
MAX_UNCHECKED_MEMBER_BYTES = 64 << 20
MAX_MEMBER_BYTES = 200 << 30


def _refused_member(info: zipfile.ZipInfo) -> str | None:
    """Why a member must not be extracted, or None."""
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symbolic link"
    if info.file_size > MAX_MEMBER_BYTES:
        return f"unpacks to {info.file_size} bytes (more than {MAX_MEMBER_BYTES})"
    ratio_limit = MAX_COMPRESSION_RATIO * max(info.compress_size, 1)
    if info.file_size > MAX_UNCHECKED_MEMBER_BYTES and info.file_size > ratio_limit:
        return (
            f"unpacks {info.compress_size} bytes to {info.file_size} (more than "
            f"{MAX_COMPRESSION_RATIO} times): it looks like a zip bomb"
        )
    return None


def extract_zip(archive: Path, dest: Path) -> None:
    """Extracts a zip into `dest`, refusing members that would land outside it, symbolic links
    and members that unpack to far more than they take (see MAX_COMPRESSION_RATIO). Every
    failure, a full disk included, is a PreparationError; `dest` may then hold part of the
    files, so callers extract to a temporary folder."""
    dest = Path(dest).resolve()
    # A zip staged anew in the mirror replaces the data dir's copy (sources.py): either way works.
    again = "stage a good copy in the mirror, or delete this one to download it again"
    try:
        with zipfile.ZipFile(require(archive)) as zf:
            for member in zf.infolist():
                target = (dest / member.filename).resolve()
                if dest != target and dest not in target.parents:
                    raise PreparationError(f"{archive}: member {member.filename!r} escapes {dest}")
                if why := _refused_member(member):
                    raise PreparationError(f"{archive}: member {member.filename!r} {why}; {again}")
            zf.extractall(dest)
    except PreparationError:
        raise
    except zipfile.BadZipFile as exc:
        raise PreparationError(f"{archive} is not a valid zip ({exc}); {again}") from None
    except OSError as exc:
        raise PreparationError(
            f"extracting {archive} to {dest} failed: {exc.strerror or exc}"
            + ("; free disk space and prepare again" if exc.errno == errno.ENOSPC else "")
        ) from None
    except (EOFError, zlib.error, ValueError, NotImplementedError, RuntimeError) as exc:
        # damaged member data, an unsupported compression or an encrypted member
        raise PreparationError(
            f"{archive}: cannot extract ({type(exc).__name__}: {exc}); {again}"
        ) from None


def zip_names(archive: Path, prefix: str = "", suffix: str = "") -> list[str]:
    """Member names of `archive` (files only) that start with `prefix` and end with `suffix`."""
    with zipfile.ZipFile(require(archive)) as zf:
        return [
            n
            for n in zf.namelist()
            if n.startswith(prefix) and n.endswith(suffix) and not n.endswith("/")
        ]


def extract_member(zf: zipfile.ZipFile, member: str, dst: Path) -> None:
    """Streams one member's bytes into `dst` (never the whole archive in memory)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        source = zf.open(member)
    except KeyError:
        raise PreparationError(
            f"{zf.filename} has no member {member!r}; the download looks incomplete"
        ) from None
    with source, open(dst, "wb") as out:
        shutil.copyfileobj(source, out, COPY_CHUNK)


# --------------------------------------------------------------------------------------------
# 7-Zip archives (some downloads ship them)


def _py7zr():
    # py7zr is a declared dependency, imported only by the competitions that need it; without
    # it (a partial install) the error says what to install.
    try:
        import py7zr
    except ImportError:
        raise PreparationError(
            "this competition's data is packed with 7-Zip; install the py7zr package "
            "(pip install py7zr) and prepare again"
        ) from None
    return py7zr


def extract_7z(archive: Path, dest: Path) -> None:
    """Extracts a .7z archive into `dest`."""
    require(archive)
    with _py7zr().SevenZipFile(archive, mode="r") as z:
        z.extractall(path=dest)


def pack_7z(dest: Path, path: Path, arcname: str) -> None:
    """Writes a file, or a folder with everything below it, into a new .7z archive as `arcname`.

    Timestamps are set to FIXED_EPOCH first, so that the same files give the same archive.
    """
    py7zr = _py7zr()
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.utime(p, (FIXED_EPOCH, FIXED_EPOCH))
    with py7zr.SevenZipFile(dest, mode="w") as z:
        z.writeall(path, arcname=arcname)
