"""Splits the labelled chest X-rays 90/10 by image into a new train and test set
(train_test_split of the unique image ids, random_state 0) and copies the DICOM files byte
for byte into public/train/ and public/test/.

Kaggle's training images were read by three radiologists each, so one finding can have several
boxes; the answers keep the first row of every (image, class) pair (pandas groupby().first(),
which takes each column's first non-missing value), like the single consensus box of Kaggle's
test set. "No finding" (class 14) gets the box 0 0 1 1. private/gold_submission.csv is the
answers as a submission with confidence 1.0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.io import copy_files

NO_FINDING = 14
SAMPLE_GUESS = "14 1 0 0 1 1"


def consensus(rows: pd.DataFrame) -> pd.DataFrame:
    """One box per (image, class): the first annotation; missing coordinates become 0, and the
    no-finding class spans 0 0 1 1."""
    answers = rows.groupby(by=["image_id", "class_id"]).first().reset_index()
    answers = answers.fillna(0)
    answers.loc[answers["class_id"] == NO_FINDING, ["x_max", "y_max"]] = 1.0
    return answers


def gold_submission(answers: pd.DataFrame) -> pd.DataFrame:
    """The answers as a submission: `class 1.0 x_min y_min x_max y_max` groups per image."""
    groups = [
        f"{c} 1.0 {x0} {y0} {x1} {y1}"
        for c, x0, y0, x1, y1 in zip(
            answers["class_id"].tolist(),
            answers["x_min"].tolist(),
            answers["y_min"].tolist(),
            answers["x_max"].tolist(),
            answers["y_max"].tolist(),
            strict=True,
        )
    ]
    frame = pd.DataFrame({"image_id": answers["image_id"], "PredictionString": groups})
    return frame.groupby("image_id")["PredictionString"].agg(" ".join).reset_index()


def prepare(raw: Path, public: Path, private: Path) -> None:
    table = pd.read_csv(raw / "train.csv")
    unique_ids = np.asarray(table["image_id"].unique(), dtype=object)
    train_ids, test_ids = train_test_split(unique_ids, test_size=0.1, random_state=0)
    train = table[table["image_id"].isin(train_ids)]
    answers = consensus(table[table["image_id"].isin(test_ids)])

    train.to_csv(public / "train.csv", index=False)
    pd.DataFrame({"image_id": test_ids, "PredictionString": SAMPLE_GUESS}).to_csv(
        public / "sample_submission.csv", index=False
    )
    answers.to_csv(private / "answers.csv", index=False)
    gold_submission(answers).to_csv(private / "gold_submission.csv", index=False)

    (public / "train").mkdir()
    (public / "test").mkdir()
    copy_files(raw / "train", public / "train", [f"{i}.dicom" for i in train_ids])
    copy_files(raw / "train", public / "test", [f"{i}.dicom" for i in test_ids])
