"""Holds out 30% of Kaggle's labelled phrases (about Kaggle's own test share) as the test set.

Kaggle ships the data as zipped tab-separated files; the new train and test sets are zipped
the same way. The answers and the sample submission are comma-separated.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlepipe.preparers.archives import zip_files
from mlepipe.preparers.io import write_csv
from mlepipe.preparers.splits import split_indices
from mlepipe.preparers.tables import ZIP_TIMESTAMP

TARGET = "Sentiment"


def prepare(raw: Path, public: Path, private: Path) -> None:
    phrases = pd.read_csv(raw / "train.tsv.zip", sep="\t")
    train_rows, test_rows = split_indices(len(phrases), test_size=0.3, random_state=0)
    train, answers = phrases.iloc[train_rows], phrases.iloc[test_rows]

    write_csv(answers, private / "answers.csv")
    write_csv(answers[["PhraseId"]].assign(**{TARGET: 2}), public / "sampleSubmission.csv")
    for name, frame in (("train.tsv", train), ("test.tsv", answers.drop(columns=TARGET))):
        write_csv(frame, public / name, sep="\t")
        zip_files(public / f"{name}.zip", [(public / name, name)], ZIP_TIMESTAMP)
        (public / name).unlink()
