"""Splits the labelled artwork images 85/15 into a new train and test set (train_test_split,
random_state 0); the test images are copied byte for byte into public/test/, the others into
public/train/. No public test table exists: the test images are the folder's files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from mlepipe.preparers.io import copy_files

SAMPLE_GUESS = "0 1 2"


def prepare(raw: Path, public: Path, private: Path) -> None:
    table = pd.read_csv(raw / "train.csv")
    train, answers = train_test_split(table, test_size=0.15, random_state=0)

    answers.to_csv(private / "answers.csv", index=False)
    train.to_csv(public / "train.csv", index=False)
    answers.assign(attribute_ids=SAMPLE_GUESS).to_csv(public / "sample_submission.csv", index=False)
    shutil.copyfile(raw / "labels.csv", public / "labels.csv")

    (public / "train").mkdir()
    (public / "test").mkdir()
    copy_files(raw / "train", public / "train", [f"{i}.png" for i in train["id"]])
    copy_files(raw / "train", public / "test", [f"{i}.png" for i in answers["id"]])
