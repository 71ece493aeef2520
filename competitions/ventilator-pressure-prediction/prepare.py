"""A 10% hold-out of whole breaths from train.csv.

Breath ids are sorted and split by sklearn's train_test_split(test_size=0.1, random_state=0);
each side keeps its breaths in the shuffled order and each breath's rows in their original
order, then the `id` column is renumbered from 1. Floats are written with "%.10g", as MLE-bench
writes them. The 6 million rows are held once, in compact dtypes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlepipe.preparers.io import read_csv, write_csv
from mlepipe.preparers.splits import rows_in_group_order, split_ids

DTYPES = {
    "id": "int32",
    "breath_id": "int32",
    "R": "int8",
    "C": "int8",
    "time_step": "float64",
    "u_in": "float64",
    "u_out": "int8",
    "pressure": "float64",
}
FLOATS = "%.10g"


def prepare(raw: Path, public: Path, private: Path) -> None:
    table = read_csv(raw / "train.csv", dtype=DTYPES)
    breaths = np.sort(table["breath_id"].unique())
    train_breaths, test_breaths = split_ids(breaths, test_size=0.1, random_state=0)
    train = table.take(rows_in_group_order(table["breath_id"], train_breaths))
    test = table.take(rows_in_group_order(table["breath_id"], test_breaths))
    del table
    train["id"] = np.arange(1, len(train) + 1)
    test["id"] = np.arange(1, len(test) + 1)

    write_csv(train, public / "train.csv", float_format=FLOATS)
    del train
    write_csv(test.drop(columns=["pressure"]), public / "test.csv", float_format=FLOATS)
    write_csv(test[["id"]].assign(pressure=0), public / "sample_submission.csv")
    write_csv(test, private / "test.csv", float_format=FLOATS)
