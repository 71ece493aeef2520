"""Holds out 10% of the labelled cases (random_state 0) as the test set.

Each case is a folder of four MRI series (FLAIR, T1w, T1wCE, T2w) of DICOM files, copied
unchanged to public/train/<id>/ or public/test/<id>/. Case ids are kept as the zero-padded text
of the folder names.
"""

from __future__ import annotations

from pathlib import Path

from sklearn.model_selection import train_test_split

from mlepipe.preparers.io import copy_trees, read_csv, require_columns

ID, TARGET = "BraTS21ID", "MGMT_value"


def prepare(raw: Path, public: Path, private: Path) -> None:
    labels = read_csv(raw / "train_labels.csv", dtype={ID: str, TARGET: int})
    require_columns(labels, [ID, TARGET], "train_labels.csv")
    train, test = train_test_split(labels, test_size=0.1, random_state=0)

    copy_trees(raw / "train", public / "train", train[ID])
    copy_trees(raw / "train", public / "test", test[ID])

    train.to_csv(public / "train_labels.csv", index=False)
    test.to_csv(private / "test.csv", index=False)
    test.assign(**{TARGET: 0.5}).to_csv(public / "sample_submission.csv", index=False)
