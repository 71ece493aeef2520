"""Holds out 10% of the patients (random_state 0) as the test set.

The public test table keeps each test patient's first visit (the baseline FVC); the answers list
every week from the earliest to the latest test visit for every test patient, with the measured
FVC where there was a visit and an empty cell elsewhere. Grading uses each patient's last three
visits only; asking for every week hides which weeks those are. Each patient's folder of CT slices
(DICOM) is copied unchanged to public/train/ or public/test/.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mlepipe.preparers.errors import PreparationError
from mlepipe.preparers.io import copy_trees, read_csv, require_columns
from mlepipe.preparers.splits import split_ids

COLUMNS = ["Patient", "Weeks", "FVC", "Percent", "Age", "Sex", "SmokingStatus"]


def prepare(raw: Path, public: Path, private: Path) -> None:
    visits = read_csv(raw / "train.csv")
    require_columns(visits, COLUMNS, "train.csv")

    # Patients in sorted order (as grouping them orders them), each patient's rows in file order.
    rows_of = visits.groupby("Patient").indices
    train_ids, test_ids = split_ids(sorted(rows_of), test_size=0.1, random_state=0)
    train = visits.iloc[np.concatenate([rows_of[p] for p in train_ids])]
    test = visits.iloc[np.concatenate([rows_of[p] for p in test_ids])]

    # The earliest visit per patient; `first()` takes each column's first non-empty value.
    baseline = test.sort_values(by="Weeks").groupby("Patient").first().reset_index()

    weeks = range(int(test["Weeks"].min()), int(test["Weeks"].max()) + 1)
    grid = pd.MultiIndex.from_product(
        [test["Patient"].unique(), weeks], names=["Patient", "Weeks"]
    ).to_frame(index=False)
    answers = grid.merge(test, on=["Patient", "Weeks"], how="left")
    answers["Patient_Week"] = answers["Patient"] + "_" + answers["Weeks"].astype(str)
    answers["Confidence"] = 100
    if answers.groupby("Patient").size().nunique() != 1:
        raise PreparationError(
            "train.csv lists the same week twice for a test patient; the answers would hold "
            "duplicate Patient_Week rows"
        )

    sample = answers[["Patient_Week"]].copy()
    sample["FVC"] = 2000
    sample["Confidence"] = 100

    train.to_csv(public / "train.csv", index=False)
    baseline.to_csv(public / "test.csv", index=False)
    answers.to_csv(private / "test.csv", index=False)
    sample.to_csv(public / "sample_submission.csv", index=False)

    copy_trees(raw / "train", public / "train", train["Patient"].unique())
    copy_trees(raw / "train", public / "test", test["Patient"].unique())
