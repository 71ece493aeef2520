"""Preparers for tabular and text competitions: hold-out splits of one labelled CSV file.

Most such competitions hold out part of Kaggle's labelled training table as the new test set.
`holdout` does this declaratively (`preparation: {kind: tables.holdout, ...}`); competitions
with extra steps call the building blocks from their own `prepare.py`.

Byte-identical output needs the same parsing and formatting as MLE-bench: floats parsed exactly
(`float_precision="round_trip"`), pandas' own CSV writer, and scikit-learn's shuffled split.
Tables of many gigabytes (tens of millions of rows) are read in chunks and written in blocks
of rows, so that memory holds one compact copy of the table and never two.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.archives import zip_files
from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import copy_file, read_csv, require_columns, write_csv, write_rows
from mlepipe.preparers.splits import split_indices

# The fixed date of the zip members written here (not archives.FIXED_DATE_TIME: that would change
# the bytes of archives already prepared).
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


# --------------------------------------------------------------------------------------------
# Large tables


class ChunkedTable:
    """A table read in chunks of rows, kept as those chunks (no concatenated second copy).

    pandas keeps text columns in Arrow memory, so the chunks take about the size of the CSV
    file or less. Rows are fetched by global position with `take`.
    """

    def __init__(self, chunks: Sequence[pd.DataFrame]):
        if not chunks:
            raise PreparationError("the table has no rows")
        self.chunks = _unify_dtypes(list(chunks))
        self.columns = list(self.chunks[0].columns)
        self.starts = np.concatenate([[0], np.cumsum([len(c) for c in self.chunks])])

    @classmethod
    def read_csv(cls, path: Path | str, *, chunksize: int, **kwargs: Any) -> ChunkedTable:
        with read_csv(path, chunksize=chunksize, **kwargs) as reader:
            return cls([chunk.reset_index(drop=True) for chunk in reader])

    def __len__(self) -> int:
        return int(self.starts[-1])

    def take(self, rows: np.ndarray, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The rows at the given global positions, in the given order."""
        rows = np.asarray(rows, dtype=np.int64)
        cols = list(columns) if columns is not None else self.columns
        if not len(rows):
            return self.chunks[0].iloc[:0][cols]
        chunk_of = np.searchsorted(self.starts, rows, side="right") - 1
        order = np.argsort(chunk_of, kind="stable")
        bounds = np.searchsorted(chunk_of[order], np.arange(len(self.chunks) + 1))
        pieces = []
        for c, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            if lo < hi:
                local = rows[order[lo:hi]] - self.starts[c]
                pieces.append(self.chunks[c][cols].iloc[local])
        gathered = pd.concat(pieces, ignore_index=True)
        del pieces  # at most two copies of the selected rows exist at once
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        return gathered.iloc[inverse].reset_index(drop=True)


def _unify_dtypes(chunks: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """Gives each column one dtype across chunks, the one a single read of the file would give.

    Chunks are typed separately: an integer column with a missing value in one chunk only is
    float there, and would otherwise be written as "3" in some rows and "3.0" in others.
    """
    columns = list(chunks[0].columns)
    for chunk in chunks[1:]:
        if list(chunk.columns) != columns:
            raise PreparationError("chunks of the table have different columns")
    for col in columns:
        dtypes = {chunk[col].dtype for chunk in chunks}
        if len(dtypes) == 1:
            continue
        common = pd.concat([chunk[col].iloc[:0] for chunk in chunks]).dtype
        for i, chunk in enumerate(chunks):
            if chunk[col].dtype != common:
                chunks[i] = chunk.assign(**{col: chunk[col].astype(common)})
    return chunks


# --------------------------------------------------------------------------------------------
# Declarative preparer


def holdout(
    raw: Path,
    public: Path,
    private: Path,
    *,
    test_size: float | int,
    id_column: str,
    label_columns: list[str],
    sample_values: Mapping[str, Any],
    random_state: int = 0,
    train_file: str = "train.csv",
    read_options: Mapping[str, Any] | None = None,
    renumber_ids: bool = False,
    public_train: str = "train.csv",
    public_test: str = "test.csv",
    public_test_columns: list[str] | None = None,
    answers: str = "test.csv",
    answer_columns: list[str] | None = None,
    answer_rename: Mapping[str, str] | None = None,
    sample_submission: str = "sample_submission.csv",
    gold_submission: str | None = None,
    copy_files: Sequence[str] = (),
    chunksize: int | None = None,
) -> None:
    """Holds out `test_size` rows (a fraction, or a count) of `raw/<train_file>` as the test set.

    Writes public/<public_train> (the remaining labelled rows), public/<public_test> (held-out
    rows without `label_columns`, or only `public_test_columns`), private/<answers> (held-out
    rows, every column unless `answer_columns`, renamed by `answer_rename`), and
    public/<sample_submission>: the id column plus `sample_values` as constant columns.
    `gold_submission` adds private/<name> with the id and label columns. `renumber_ids` numbers
    the new train rows 0..n-1 and the test rows after them. `copy_files` are copied from raw/
    to public/ unchanged. With `chunksize`, the table is read in chunks of that many rows and
    written in blocks (for tables of many GB); the output is the same.
    """
    source = raw / train_file
    options = dict(read_options or {})
    if chunksize:
        table: ChunkedTable | pd.DataFrame = ChunkedTable.read_csv(
            source, chunksize=chunksize, **options
        )
    else:
        table = read_csv(source, **options)
    require_columns(table, [id_column, *label_columns], str(source))

    train_rows, test_rows = split_indices(len(table), test_size, random_state)
    test = table.take(test_rows)  # rows by position, for a DataFrame as for a ChunkedTable
    if renumber_ids:
        test = test.assign(**{id_column: np.arange(len(train_rows), len(table))})
    # The new train set, possibly the largest file, is written a block at a time.
    renumber = id_column if renumber_ids else None
    write_rows(table, train_rows, public / public_train, renumber=renumber)
    del table

    unlabelled = (
        test[public_test_columns] if public_test_columns else test.drop(columns=label_columns)
    )
    write_csv(unlabelled, public / public_test)
    held_out = test[answer_columns] if answer_columns else test
    write_csv(held_out.rename(columns=dict(answer_rename or {})), private / answers)
    if gold_submission:
        write_csv(test[[id_column, *label_columns]], private / gold_submission)
    write_csv(sample_frame(test[id_column], sample_values), public / sample_submission)
    for name in copy_files:
        copy_file(raw / name, public / name)


def sample_frame(ids: pd.Series, values: Mapping[str, Any]) -> pd.DataFrame:
    """A sample submission: the ids plus one constant column per entry of `values`."""
    frame = pd.DataFrame({ids.name: ids.to_numpy()})
    for col, value in values.items():
        frame[col] = value
    return frame


# --------------------------------------------------------------------------------------------
# Token tables split by sentence (text-normalization-challenge-*-language)


def sentence_holdout(
    raw: Path,
    public: Path,
    private: Path,
    *,
    language: str,
    test_size: float = 0.1,
    random_state: int = 0,
) -> None:
    """Holds out whole sentences of `<language>_train.csv` (one row per token) as the test set.

    A shuffled split of the distinct sentence ids (in order of appearance) picks the test
    sentences; both parts keep the file's row order and renumber their sentences 0, 1, ... in
    order of appearance. Token ids are `<sentence_id>_<token_id>`. Writes, every CSV with all
    text quoted (csv.QUOTE_NONNUMERIC) and zipped without compression as Kaggle ships them:
    public/<language>_train.csv.zip, public/<language>_test_2.csv.zip (no `after`, no
    `class`), public/<language>_sample_submission_2.csv.zip (`after` = `before`), and
    private/answers.csv plus an unzipped copy of the sample submission in private/.
    """
    tokens = read_csv(raw / f"{language}_train.csv.zip")
    expected = ["sentence_id", "token_id", "class", "before", "after"]
    if list(tokens.columns) != expected:
        raise PreparationError(
            f"{raw / f'{language}_train.csv.zip'}: expected columns {expected}, "
            f"found {list(tokens.columns)}"
        )
    _, test_ids = train_test_split(
        tokens["sentence_id"].unique(), test_size=test_size, random_state=random_state
    )
    in_test = tokens["sentence_id"].isin(test_ids)
    train, test = tokens[~in_test], tokens[in_test]
    del tokens
    train = train.assign(sentence_id=pd.factorize(train["sentence_id"])[0])
    test = test.assign(sentence_id=pd.factorize(test["sentence_id"])[0])
    ids = test["sentence_id"].astype(str) + "_" + test["token_id"].astype(str)
    answers = pd.DataFrame({"id": ids, "after": test["after"]})
    sample = pd.DataFrame({"id": ids, "after": test["before"]})

    quoted = {"quotechar": '"', "quoting": csv.QUOTE_NONNUMERIC}
    write_csv(answers, private / "answers.csv", **quoted)
    write_csv(sample, private / "sample_submission.csv", **quoted)
    for name, frame in (
        (f"{language}_train.csv", train),
        (f"{language}_test_2.csv", test[["sentence_id", "token_id", "before"]]),
        (f"{language}_sample_submission_2.csv", sample),
    ):
        write_csv(frame, public / name, **quoted)
        zip_files(public / f"{name}.zip", [(public / name, name)], ZIP_TIMESTAMP, deflate=False)
        (public / name).unlink()
