"""Preparation for signal, audio, time-series and scientific-table competitions.

These datasets are many small binary files (recordings, spectrograms, per-segment tables) plus
one or more large tables whose rows belong to groups (breaths, molecules, EEG recordings,
detector batches, drives). Their own `prepare.py` files split the groups, not the rows, with
`splits.split_ids` and `splits.rows_in_group_order`, write large tables a block at a time with
`io.write_rows`, and copy recordings byte for byte with `io.copy_files`.

`split_labelled_files` is also usable declaratively:

    preparation:
      kind: signals.split_labelled_files
      labels_file: train.csv
      id_column: segment_id
      source_pattern: "train/{}.csv"
      ...
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sklearn.model_selection import train_test_split

from mlepipe.preparers.io import copy_file, copy_tree, read_csv, require_columns, write_csv

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
    require_columns(table, [id_column, *sample_fill], labels_file)
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
