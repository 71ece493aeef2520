"""Splits the labelled pet photos into a new train and test set (10%, random_state 0).

public/test.csv keeps the test photos' metadata without the score. The sample submission holds
random scores between 1 and 100 (2 decimals, numpy's default_rng(0)), as MLE-bench's does.
Photos are copied byte for byte into public/train/ and public/test/.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from mlepipe.preparers.io import copy_files, read_csv


def prepare(raw: Path, public: Path, private: Path) -> None:
    labelled = read_csv(raw / "train.csv")
    rng = np.random.default_rng(0)
    # The original test set had about 6,800 photos beside 9,912 labelled ones; 10% keeps more to
    # train on.
    train, test = train_test_split(labelled, test_size=0.1, random_state=0)
    sample = test[["Id", "Pawpularity"]].assign(Pawpularity=rng.uniform(1, 100, len(test)).round(2))

    train.to_csv(public / "train.csv", index=False)
    test.to_csv(private / "test.csv", index=False)
    test.drop(columns=["Pawpularity"]).to_csv(public / "test.csv", index=False)
    sample.to_csv(public / "sample_submission.csv", index=False)
    copy_files(raw / "train", public / "train", (f"{i}.jpg" for i in train["Id"]))
    copy_files(raw / "train", public / "test", (f"{i}.jpg" for i in test["Id"]))
