"""Train/test splits, each made as MLE-bench makes it: scikit-learn's shuffled `train_test_split`.

- `split_indices`: the rows of one table, by position.
- `split_ids`: ids that each stand for a group of rows (patients, molecules, breaths, batches),
  so that a group is never on both sides; `rows_in_group_order` then finds the rows of a side.
- `split_within_groups`: every group (a category of images) split into train and test itself.
- `split_table`: the declarative preparer `kind: split_table`, a labelled table held out as
  train, test, answers and a sample submission.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import copy_file, read_csv

Member = TypeVar("Member")


def split_indices(
    n_rows: int, test_size: float | int, random_state: int
) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (train, test) exactly as `train_test_split(table, test_size=...,
    random_state=...)` picks them: a shuffled split, rows in shuffled order."""
    train, test = train_test_split(
        np.arange(n_rows), test_size=test_size, random_state=random_state
    )
    return train, test


def split_ids(
    ids: Sequence[Any] | np.ndarray, *, test_size: float | int, random_state: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ids (in the order given) split into train and test ids as `train_test_split` splits
    them, each side in shuffled order.

    The permutation depends only on the number of ids and the seed: pass them in the order the
    original preparation saw them. Splitting the ids of groups gives the same sides, in the same
    order, as MLE-bench splitting a list of per-group DataFrames.
    """
    keys = np.asarray(ids)
    if len(keys) < 2:
        raise PreparationError(
            f"only {len(keys)} id(s) to split into train and test; the raw data look truncated"
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


def split_within_groups(
    groups: dict[Any, list[Member]], test_size: float, *, small_groups: bool
) -> tuple[dict[Any, list[Member]], dict[Any, list[Member]]]:
    """Splits the members of every group into train and test with
    train_test_split(random_state=0), so that every group is on both sides.

    With `small_groups`, a group of one member stays in train and one of 2 to 4 members sends
    its last max(1, int(n * test_size)) members to test (no shuffling); without, every group
    is split by train_test_split, which needs at least two members."""
    train: dict[Any, list[Member]] = {}
    test: dict[Any, list[Member]] = {}
    for group, members in groups.items():
        n = len(members)
        if small_groups and n == 1:
            train[group], test[group] = members, []
        elif small_groups and n < 5:
            k = max(1, int(n * test_size))
            train[group], test[group] = members[:-k], members[-k:]
        else:
            if n < 2:
                raise PreparationError(
                    f"category {group!r} has a single sample; it cannot be in both train and test"
                )
            train[group], test[group] = train_test_split(
                members, test_size=test_size, random_state=0
            )
    return train, test


def split_table(
    raw: Path,
    public: Path,
    private: Path,
    *,
    train_file: str = "train.csv",
    id_column: str = "id",
    target_columns: list[str],
    test_size: float = 0.1,
    random_state: int = 0,
    stratify: bool = False,
    sample_fill: dict[str, object] | None = None,
    one_hot_classes: list[str] | None = None,
    image_dir: str | None = None,
    image_ext: str = "",
) -> None:
    """Splits one labelled table into a new train (public), a test without labels (public), its
    answers (private/test.csv) and a sample submission filled with constant values.

    With `one_hot_classes`, the single target column becomes one 0/1 answer column per class
    (the layout of a probability submission). With `image_dir`, each row's file
    `<image_dir>/<id><image_ext>` is copied (not decoded) into
    public/train/ or public/test/.
    """
    table = read_csv(raw / train_file)
    strat = table[target_columns[0]] if stratify else None
    train, test = train_test_split(
        table, test_size=test_size, random_state=random_state, stratify=strat
    )
    train.to_csv(public / "train.csv", index=False)
    test.drop(columns=target_columns).to_csv(public / "test.csv", index=False)
    answers = test[[id_column, *target_columns]]
    if one_hot_classes:
        (target,) = target_columns
        answers = pd.DataFrame({id_column: test[id_column]})
        for cls in one_hot_classes:
            answers[cls] = (test[target].astype(str) == str(cls)).astype(int)
    answers.to_csv(private / "test.csv", index=False)
    sample = answers.copy()
    for col, value in (sample_fill or {}).items():
        sample[col] = value
    sample.to_csv(public / "sample_submission.csv", index=False)
    if image_dir:
        for part, frame in (("train", train), ("test", test)):
            (public / part).mkdir()
            for ident in frame[id_column]:
                name = f"{ident}{image_ext}"
                copy_file(raw / image_dir / name, public / part / name)
