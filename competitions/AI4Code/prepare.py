"""Holds out 20,000 of Kaggle's training notebooks, whole fork families at a time.

`train_ancestors.csv` gives each notebook's `ancestor_id`: notebooks forked from a common
origin share it. The table is shuffled (pandas `sample`, random_state 0); families are then
taken in order of first appearance, and each goes to the test set if it still fits within
20,000 notebooks, else to the training set, so no family is split between the two. Notebook
files are copied unchanged; the sample submission lists each test notebook's cells in the
order of its file (code cells in order, then the shuffled markdown cells).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import read_csv, write_csv

TEST_NOTEBOOKS = 20_000


def family_split(ancestors: pd.DataFrame, test_size: int) -> tuple[list[str], list[str]]:
    """(train ids, test ids), each in order of family, then of the rows of `ancestors`."""
    # Families are numbered in order of first appearance (missing ancestors form one family).
    family, _ = pd.factorize(ancestors["ancestor_id"], use_na_sentinel=False)
    to_test = np.zeros(family.max() + 1, dtype=bool)
    taken = 0
    for number, size in enumerate(np.bincount(family)):
        if taken + size <= test_size:
            to_test[number] = True
            taken += size
    if taken != test_size:
        raise PreparationError(
            f"could not gather exactly {test_size} notebooks in whole families (got {taken})"
        )
    order = np.argsort(family, kind="stable")
    ids = ancestors["id"].to_numpy()[order]
    in_test = to_test[family[order]]
    return list(ids[~in_test]), list(ids[in_test])


def _copy_notebooks(ids: list[str], source: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for notebook in ids:
        shutil.copyfile(source / f"{notebook}.json", dest / f"{notebook}.json")


def prepare(raw: Path, public: Path, private: Path) -> None:
    ancestors = read_csv(raw / "train_ancestors.csv")
    ancestors = ancestors.sample(frac=1, random_state=0).reset_index(drop=True)
    train_ids, test_ids = family_split(ancestors, TEST_NOTEBOOKS)

    _copy_notebooks(train_ids, raw / "train", public / "train")
    _copy_notebooks(test_ids, raw / "train", public / "test")

    orders = read_csv(raw / "train_orders.csv")
    write_csv(orders[orders["id"].isin(train_ids)], public / "train_orders.csv")
    test_orders = orders[orders["id"].isin(test_ids)]
    write_csv(test_orders, private / "test_orders.csv")
    write_csv(ancestors[~ancestors["id"].isin(test_ids)], public / "train_ancestors.csv")

    rows = []
    for notebook in test_orders["id"]:
        with open(public / "test" / f"{notebook}.json", encoding="utf-8") as f:
            cells = json.load(f)["cell_type"]
        rows.append({"id": notebook, "cell_order": " ".join(cells)})
    write_csv(pd.DataFrame(rows, columns=["id", "cell_order"]), public / "sample_submission.csv")
