"""Preparation for signal, audio, time-series and scientific-table competitions.

These datasets are many small binary files (recordings, spectrograms, per-segment tables) plus
one or more large tables whose rows belong to groups (breaths, molecules, EEG recordings,
detector batches, drives). The helpers here:

- split groups, not rows, so that a group never straddles train and test, in the order
  scikit-learn's `train_test_split` gives them (what MLE-bench does);
- order the rows of a table group by group without building one DataFrame per group, and write
  them a block at a time (`write_rows`), so that a table of millions of rows is held once;
- copy recordings and other binary files byte for byte, never decoding them (archive members
  are moved between zips by `mlepipe.preparers.archives`).

`split_labelled_files` is also usable declaratively:

    preparation:
      kind: signals.split_labelled_files
      labels_file: train.csv
      id_column: segment_id
      source_pattern: "train/{}.csv"
      ...
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.prepare import PreparationError, safe_extract

# Rows written per block when a large table is written in an order of our choosing.
WRITE_BLOCK_ROWS = 500_000


# --------------------------------------------------------------------------------------------
# Files


def require(path: Path) -> Path:
    """`path` itself, or an error saying that the raw data are incomplete."""
    path = Path(path)
    if not path.exists():
        raise PreparationError(
            f"{path.name} is missing from {path.parent}; the download looks incomplete: "
            "prepare again with --force to extract it anew"
        )
    return path


def read_csv(path: Path, **kwargs: Any) -> pd.DataFrame:
    """A raw CSV (floats parsed exactly, as MLE-bench reads them), or a readable error."""
    return pd.read_csv(require(path), **kwargs)


def write_csv(frame: pd.DataFrame, path: Path, **kwargs: Any) -> None:
    """DataFrame.to_csv without the index and with '\\n' line ends on every platform."""
    frame.to_csv(path, **{"index": False, "lineterminator": "\n", **kwargs})


def write_rows(
    frame: pd.DataFrame,
    rows: np.ndarray,
    path: Path,
    *,
    columns: Sequence[str] | None = None,
    block: int = WRITE_BLOCK_ROWS,
    **kwargs: Any,
) -> None:
    """Writes the rows at positions `rows` of `frame` (in that order, `columns` only when given)
    as one CSV, a block of rows at a time: the bytes equal `write_csv(frame.iloc[rows])`, but
    only one block is ever copied out of the table."""
    frame = frame if columns is None else frame[list(columns)]
    with open(path, "w", newline="") as f:
        write_csv(frame.iloc[:0], f, **kwargs)
        for start in range(0, len(rows), block):
            write_csv(frame.iloc[rows[start : start + block]], f, header=False, **kwargs)


def copy_file(src: Path, dst: Path) -> None:
    """Copies one file's bytes; parent folders of `dst` are created."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(src, dst)
    except FileNotFoundError:
        require(src)
        raise


def copy_files(src_dir: Path, dst_dir: Path, names: Iterable[str]) -> int:
    """Copies `src_dir/<name>` to `dst_dir/<name>` for each name (names may hold sub-folders);
    returns how many files were copied."""
    made: set[Path] = set()
    count = 0
    for name in names:
        dst = dst_dir / name
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
    """Copies a folder with everything below it (files byte for byte)."""
    shutil.copytree(require(src), dst, dirs_exist_ok=True)


# --------------------------------------------------------------------------------------------
# Archives


def extract_zip(archive: Path, dest: Path) -> None:
    """Extracts a zip of the download into `dest`, refusing members that would land outside it."""
    safe_extract(require(archive), Path(dest))


def extract_7z(archive: Path, dest: Path) -> None:
    """Extracts a 7-Zip archive into `dest` with the py7zr package, or else with a `7z` (or
    `7za`) program on the PATH."""
    require(archive)
    try:
        import py7zr
    except ImportError:
        program = shutil.which("7z") or shutil.which("7za")
        if program is None:
            raise PreparationError(
                f"{archive.name} is a 7-Zip archive: install the py7zr package (pip install "
                "py7zr) or the 7z program (p7zip), then prepare again"
            ) from None
        done = subprocess.run(
            [program, "x", "-y", f"-o{dest}", str(archive)], capture_output=True, text=True
        )
        if done.returncode != 0:
            raise PreparationError(
                f"{program} could not extract {archive}: {done.stderr.strip()[-500:]}"
            ) from None
        return
    with py7zr.SevenZipFile(archive, mode="r") as z:
        z.extractall(path=dest)


# --------------------------------------------------------------------------------------------
# Splitting by group


def split_groups(
    groups: Sequence[Any] | np.ndarray, *, test_size: float = 0.1, random_state: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The groups (in the order given) split as sklearn's `train_test_split` splits them.

    The permutation depends only on the number of groups and the seed, so splitting the group
    keys gives the same sides, in the same order, as MLE-bench splitting a list of per-group
    DataFrames.
    """
    keys = np.asarray(groups)
    if len(keys) < 2:
        raise PreparationError(
            f"only {len(keys)} group(s) to split into train and test; the raw data look truncated"
        )
    train, test = train_test_split(keys, test_size=test_size, random_state=random_state)
    return np.asarray(train), np.asarray(test)


def rows_in_group_order(column: pd.Series, groups: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Row positions of the rows whose `column` value is one of `groups`, ordered group by group
    in `groups` order and, within a group, in their original order.

    This is the row order of `pd.concat` over `[frame[frame[column] == g] for g in groups]`, found
    with one stable sort instead of one DataFrame per group (tables of millions of rows).
    """
    rank = pd.Index(pd.unique(np.asarray(groups))).get_indexer(column)
    rows = np.flatnonzero(rank >= 0)
    return rows[np.argsort(rank[rows], kind="stable")]


# --------------------------------------------------------------------------------------------
# A labelled table whose rows each own one file


def split_labelled_files(
    raw: Path,
    public: Path,
    private: Path,
    *,
    labels_file: str,
    id_column: str,
    source_pattern: str,
    train_pattern: str,
    test_pattern: str,
    sample_fill: dict[str, Any],
    public_train_file: str | None = None,
    answers_file: str = "test.csv",
    sample_file: str = "sample_submission.csv",
    test_size: float = 0.1,
    random_state: int = 0,
    copy_folders: Sequence[str] = (),
) -> None:
    """Holds out rows of a labelled table, each with its own file (a recording, a segment).

    - raw/`labels_file` is split by sklearn's train_test_split(test_size, random_state), rows
      keeping the shuffled order; the train rows go to public/`public_train_file` (default: the
      labels file's name), the test rows with every column to private/`answers_file`.
    - public/`sample_file` is the test rows with each column of `sample_fill` set to its value.
    - Each row's file raw/`source_pattern`.format(id) is copied byte for byte to
      public/`train_pattern`.format(id) or public/`test_pattern`.format(id). Patterns are
      str.format patterns of the id as text, e.g. "train/{0[0]}/{0}.npy" for a folder named
      after the id's first character.
    - Folders named in `copy_folders` are copied from raw/ to public/ as they are.
    """
    table = read_csv(raw / labels_file)
    missing = [c for c in [id_column, *sample_fill] if c not in table.columns]
    if missing:
        raise PreparationError(
            f"{labels_file} has no column(s) {missing}; the download looks wrong"
        )
    train, test = train_test_split(table, test_size=test_size, random_state=random_state)

    write_csv(train, public / (public_train_file or Path(labels_file).name))
    write_csv(test, private / answers_file)
    sample = test.copy()
    for column, value in sample_fill.items():
        sample[column] = value
    write_csv(sample, public / sample_file)

    for folder in copy_folders:
        copy_tree(raw / folder, public / folder)
    for pattern, frame in ((train_pattern, train), (test_pattern, test)):
        for ident in frame[id_column].astype(str):
            copy_file(raw / source_pattern.format(ident), public / pattern.format(ident))
