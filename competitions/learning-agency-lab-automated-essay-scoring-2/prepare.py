"""Holds out 10% of Kaggle's scored essays as the test set.

The sample submission holds random scores from 1 to 6 (numpy's legacy generator, seed 42),
so that it is not a constant for which the kappa would be undefined.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlepipe.preparers.io import read_csv, write_csv
from mlepipe.preparers.splits import split_indices

ID, TARGET = "essay_id", "score"


def prepare(raw: Path, public: Path, private: Path) -> None:
    essays = read_csv(raw / "train.csv")
    train_rows, test_rows = split_indices(len(essays), test_size=0.1, random_state=0)
    train, answers = essays.iloc[train_rows], essays.iloc[test_rows]
    sample = answers[[ID]].assign(
        **{TARGET: np.random.RandomState(42).randint(1, 7, size=len(answers))}
    )
    write_csv(answers, private / "answers.csv")
    write_csv(train, public / "train.csv")
    write_csv(answers.drop(columns=TARGET), public / "test.csv")
    write_csv(sample, public / "sample_submission.csv")
